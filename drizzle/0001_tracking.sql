CREATE TABLE `experiment_tags` (
	`experiment_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`experiment_id`, `key`),
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `experiments` (
	`experiment_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`artifact_location` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`creation_time` integer NOT NULL,
	`last_update_time` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `experiments_name_unique` ON `experiments` (`name`);--> statement-breakpoint
CREATE INDEX `experiments_lifecycle` ON `experiments` (`lifecycle_stage`,`creation_time`);--> statement-breakpoint
CREATE TABLE `latest_metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `latest_metrics_key_value` ON `latest_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`, `step`, `timestamp`, `value`, `is_nan`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `params` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `run_tags` (
	`run_uuid` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `key`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`run_uuid` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`user_id` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`start_time` integer NOT NULL,
	`end_time` integer,
	`artifact_uri` text NOT NULL,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`deleted_time` integer,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_experiment_start` ON `runs` (`experiment_id`,`start_time`);