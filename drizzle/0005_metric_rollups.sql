CREATE TABLE `metric_rollups` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`width` integer NOT NULL,
	`bucket` integer NOT NULL,
	`n` integer NOT NULL,
	`x0` integer NOT NULL,
	`x1` integer NOT NULL,
	`lo` real,
	`hi` real,
	`last_step` integer NOT NULL,
	`last_timestamp` integer NOT NULL,
	`last_value` real NOT NULL,
	`last_is_nan` integer NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`, `width`, `bucket`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
