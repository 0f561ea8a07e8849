-- metrics becomes a WITHOUT ROWID table: one B-tree keyed by its primary key instead of a rowid table
-- plus the primary key's automatic index, so each point is written and stored once, not twice.
-- drizzle-kit cannot declare WITHOUT ROWID, so this migration is written by hand; the schema is unchanged
-- otherwise (same columns, primary key and foreign key; no other index was ever made on metrics).
CREATE TABLE `metrics_without_rowid` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `metrics_without_rowid` (`run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan`)
SELECT `run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan` FROM `metrics`;
--> statement-breakpoint
DROP TABLE `metrics`;
--> statement-breakpoint
ALTER TABLE `metrics_without_rowid` RENAME TO `metrics`;
