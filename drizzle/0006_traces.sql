CREATE TABLE `spans` (
	`trace_id` text NOT NULL,
	`span_id` text NOT NULL,
	`parent_span_id` text,
	`otel_trace_id` text NOT NULL,
	`name` text NOT NULL,
	`kind` integer DEFAULT 0 NOT NULL,
	`start_time_ns` text NOT NULL,
	`end_time_ns` text,
	`status_code` integer DEFAULT 0 NOT NULL,
	`status_message` text DEFAULT '' NOT NULL,
	`span_type` text,
	`attributes` text DEFAULT '{}' NOT NULL,
	`events` text DEFAULT '[]' NOT NULL,
	PRIMARY KEY(`trace_id`, `span_id`),
	FOREIGN KEY (`trace_id`) REFERENCES `traces`(`trace_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `trace_tags` (
	`trace_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`trace_id`, `key`),
	FOREIGN KEY (`trace_id`) REFERENCES `traces`(`trace_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `trace_tags_key_value` ON `trace_tags` (`key`,`value`);--> statement-breakpoint
CREATE TABLE `traces` (
	`trace_id` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`request_time` integer NOT NULL,
	`execution_duration` integer,
	`state` text NOT NULL,
	`request_preview` text,
	`response_preview` text,
	`client_request_id` text,
	`trace_metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `traces_experiment_time` ON `traces` (`experiment_id`,`request_time`);