CREATE TABLE `studies` (
	`study_id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`directions` text NOT NULL,
	`settings` text NOT NULL,
	`experiment_id` text,
	`user_attrs` text DEFAULT '{}' NOT NULL,
	`n_trials` integer DEFAULT 0 NOT NULL,
	`n_running` integer DEFAULT 0 NOT NULL,
	`n_complete` integer DEFAULT 0 NOT NULL,
	`n_pruned` integer DEFAULT 0 NOT NULL,
	`n_fail` integer DEFAULT 0 NOT NULL,
	`n_waiting` integer DEFAULT 0 NOT NULL,
	`best_value` real,
	`best_trial` text,
	`creation_time` integer NOT NULL,
	`last_update_time` integer NOT NULL,
	`revision` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `studies_name` ON `studies` (`name`);--> statement-breakpoint
CREATE INDEX `studies_creation_time` ON `studies` (`creation_time`);