CREATE TABLE `logged_model_metrics` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`dataset_name` text DEFAULT '' NOT NULL,
	`dataset_digest` text DEFAULT '' NOT NULL,
	`run_uuid` text NOT NULL,
	`step` integer NOT NULL,
	`timestamp` integer NOT NULL,
	`value` real NOT NULL,
	`is_nan` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`model_id`, `key`, `dataset_name`, `dataset_digest`)
);
--> statement-breakpoint
CREATE INDEX `logged_model_metrics_key` ON `logged_model_metrics` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `run_model_inputs` (
	`run_uuid` text NOT NULL,
	`model_id` text NOT NULL,
	PRIMARY KEY(`run_uuid`, `model_id`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `trace_assessments` (
	`assessment_id` text PRIMARY KEY NOT NULL,
	`trace_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`span_id` text,
	`source_type` text,
	`source_id` text,
	`body` text NOT NULL,
	`value_json` text,
	`rationale` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`overrides` text,
	`valid` integer DEFAULT 1 NOT NULL,
	`create_time` integer NOT NULL,
	`last_update_time` integer NOT NULL,
	FOREIGN KEY (`trace_id`) REFERENCES `traces`(`trace_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trace_assessments_trace` ON `trace_assessments` (`trace_id`);--> statement-breakpoint
CREATE INDEX `trace_assessments_kind_name` ON `trace_assessments` (`kind`,`name`);--> statement-breakpoint
CREATE TABLE `trace_run_links` (
	`trace_id` text NOT NULL,
	`run_uuid` text NOT NULL,
	PRIMARY KEY(`trace_id`, `run_uuid`),
	FOREIGN KEY (`trace_id`) REFERENCES `traces`(`trace_id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `trace_run_links_run` ON `trace_run_links` (`run_uuid`);