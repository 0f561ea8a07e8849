CREATE TABLE `alert_events` (
	`id` text PRIMARY KEY NOT NULL,
	`rule_id` text NOT NULL,
	`monitor_id` text NOT NULL,
	`report_id` text,
	`kind` text NOT NULL,
	`time` integer NOT NULL,
	`value` real,
	`delivery_status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_attempt_at` integer,
	`last_error` text,
	`pipeline_run_id` text,
	`pipeline_note` text,
	FOREIGN KEY (`rule_id`) REFERENCES `alert_rules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_events_monitor_time` ON `alert_events` (`monitor_id`,`time`);--> statement-breakpoint
CREATE INDEX `alert_events_due` ON `alert_events` (`delivery_status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`monitor_id` text NOT NULL,
	`name` text NOT NULL,
	`series` text NOT NULL,
	`operator` text NOT NULL,
	`threshold` real NOT NULL,
	`for_checks` integer DEFAULT 1 NOT NULL,
	`webhook_url` text,
	`pipeline_id` text,
	`enabled` integer DEFAULT true NOT NULL,
	`consecutive` integer DEFAULT 0 NOT NULL,
	`state` text DEFAULT 'ok' NOT NULL,
	`last_value` real,
	`last_evaluated_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`monitor_id`) REFERENCES `monitors`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_rules_monitor` ON `alert_rules` (`monitor_id`);--> statement-breakpoint
CREATE TABLE `monitor_column_scores` (
	`report_id` text NOT NULL,
	`monitor_id` text NOT NULL,
	`column` text NOT NULL,
	`time` integer NOT NULL,
	`method` text NOT NULL,
	`score` real,
	`drifted` integer NOT NULL,
	PRIMARY KEY(`report_id`, `column`),
	FOREIGN KEY (`report_id`) REFERENCES `monitor_reports`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `monitor_column_scores_series` ON `monitor_column_scores` (`monitor_id`,`column`,`time`);--> statement-breakpoint
CREATE TABLE `monitor_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`monitor_id` text NOT NULL,
	`time` integer NOT NULL,
	`dataset_drift` integer NOT NULL,
	`drift_share` real NOT NULL,
	`number_of_columns` integer NOT NULL,
	`number_of_drifted_columns` integer NOT NULL,
	`columns` text NOT NULL,
	`performance` text,
	`reference` text,
	`current` text,
	`sample_size` integer,
	`source` text DEFAULT 'api' NOT NULL,
	FOREIGN KEY (`monitor_id`) REFERENCES `monitors`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `monitor_reports_monitor_time` ON `monitor_reports` (`monitor_id`,`time`);--> statement-breakpoint
CREATE TABLE `monitors` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`model_name` text NOT NULL,
	`model_alias` text,
	`model_version` integer,
	`reference_dataset_version` text,
	`current_dataset` text,
	`column_settings` text DEFAULT '{}' NOT NULL,
	`drift_share` real DEFAULT 0.5 NOT NULL,
	`schedule` text,
	`paused` integer DEFAULT false NOT NULL,
	`last_checked_version` text,
	`last_checked_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `monitors_name` ON `monitors` (`name`);