CREATE TABLE `pipeline_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`pipeline_id` text NOT NULL,
	`version` integer NOT NULL,
	`run_type` text NOT NULL,
	`logical_date` integer NOT NULL,
	`data_interval_start` integer NOT NULL,
	`data_interval_end` integer NOT NULL,
	`state` text NOT NULL,
	`conf` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`pipeline_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pipeline_runs_pipeline_logical_date` ON `pipeline_runs` (`pipeline_id`,`logical_date`);--> statement-breakpoint
CREATE INDEX `pipeline_runs_pipeline_state` ON `pipeline_runs` (`pipeline_id`,`state`);--> statement-breakpoint
CREATE INDEX `pipeline_runs_state` ON `pipeline_runs` (`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `pipeline_task_instances` (
	`run_id` text NOT NULL,
	`task_id` text NOT NULL,
	`state` text NOT NULL,
	`try_number` integer NOT NULL,
	`queue` text,
	`queued_at` integer,
	`started_at` integer,
	`ended_at` integer,
	`output` text,
	`error` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `task_id`),
	FOREIGN KEY (`run_id`) REFERENCES `pipeline_runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pipeline_task_instances_queue` ON `pipeline_task_instances` (`queue`,`state`,`queued_at`);--> statement-breakpoint
CREATE TABLE `pipeline_versions` (
	`pipeline_id` text NOT NULL,
	`version` integer NOT NULL,
	`source` text NOT NULL,
	`spec` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`pipeline_id`, `version`),
	FOREIGN KEY (`pipeline_id`) REFERENCES `pipelines`(`pipeline_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `pipelines` (
	`pipeline_id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`latest_version` integer NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pipelines_name_unique` ON `pipelines` (`name`);