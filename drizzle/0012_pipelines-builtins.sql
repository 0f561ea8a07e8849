CREATE TABLE `pipeline_run_links` (
	`run_id` text NOT NULL,
	`task_id` text NOT NULL,
	`node_kind` text NOT NULL,
	`node_key` text NOT NULL,
	`edge` text NOT NULL,
	`direction` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `task_id`, `node_kind`, `node_key`, `edge`),
	FOREIGN KEY (`run_id`) REFERENCES `pipeline_runs`(`run_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `pipeline_run_links_node` ON `pipeline_run_links` (`node_kind`,`node_key`);--> statement-breakpoint
ALTER TABLE `pipeline_runs` ADD `trigger_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `pipeline_runs_pipeline_trigger` ON `pipeline_runs` (`pipeline_id`,`trigger_key`);