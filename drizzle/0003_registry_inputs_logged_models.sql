CREATE TABLE `logged_model_params` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_model_tags` (
	`model_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`model_id`, `key`),
	FOREIGN KEY (`model_id`) REFERENCES `logged_models`(`model_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `logged_models` (
	`model_id` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`artifact_location` text NOT NULL,
	`creation_timestamp_ms` integer NOT NULL,
	`last_updated_timestamp_ms` integer NOT NULL,
	`status` text NOT NULL,
	`status_message` text,
	`lifecycle_stage` text DEFAULT 'active' NOT NULL,
	`model_type` text,
	`source_run_id` text,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `logged_models_experiment` ON `logged_models` (`experiment_id`,`creation_timestamp_ms`);--> statement-breakpoint
CREATE TABLE `mlflow_datasets` (
	`dataset_uuid` text PRIMARY KEY NOT NULL,
	`experiment_id` integer NOT NULL,
	`name` text NOT NULL,
	`digest` text NOT NULL,
	`source_type` text NOT NULL,
	`source` text NOT NULL,
	`schema` text,
	`profile` text,
	FOREIGN KEY (`experiment_id`) REFERENCES `experiments`(`experiment_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mlflow_datasets_identity` ON `mlflow_datasets` (`experiment_id`,`name`,`digest`);--> statement-breakpoint
CREATE TABLE `model_version_tags` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`name`, `version`, `key`),
	FOREIGN KEY (`name`,`version`) REFERENCES `model_versions`(`name`,`version`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `model_versions` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`creation_time` integer NOT NULL,
	`last_updated_time` integer NOT NULL,
	`description` text,
	`user_id` text,
	`current_stage` text DEFAULT 'None' NOT NULL,
	`source` text NOT NULL,
	`run_id` text,
	`run_link` text,
	`status` text DEFAULT 'READY' NOT NULL,
	`status_message` text,
	`storage_location` text,
	`model_id` text,
	PRIMARY KEY(`name`, `version`),
	FOREIGN KEY (`name`) REFERENCES `registered_models`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `model_versions_run` ON `model_versions` (`run_id`);--> statement-breakpoint
CREATE TABLE `registered_model_aliases` (
	`name` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`name`, `alias`),
	FOREIGN KEY (`name`) REFERENCES `registered_models`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registered_model_tags` (
	`name` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`name`, `key`),
	FOREIGN KEY (`name`) REFERENCES `registered_models`(`name`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `registered_models` (
	`name` text PRIMARY KEY NOT NULL,
	`creation_time` integer NOT NULL,
	`last_updated_time` integer NOT NULL,
	`description` text
);
--> statement-breakpoint
CREATE TABLE `run_inputs` (
	`run_uuid` text NOT NULL,
	`dataset_uuid` text NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	PRIMARY KEY(`run_uuid`, `dataset_uuid`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`dataset_uuid`) REFERENCES `mlflow_datasets`(`dataset_uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `run_inputs_dataset` ON `run_inputs` (`dataset_uuid`);--> statement-breakpoint
CREATE TABLE `run_outputs` (
	`run_uuid` text NOT NULL,
	`model_id` text NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_uuid`, `model_id`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action
);
