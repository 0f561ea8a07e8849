CREATE TABLE `blob_upload_parts` (
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`etag` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	PRIMARY KEY(`upload_id`, `part_number`),
	FOREIGN KEY (`upload_id`) REFERENCES `blob_uploads`(`upload_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `blob_uploads` (
	`upload_id` text PRIMARY KEY NOT NULL,
	`r2_upload_id` text NOT NULL,
	`staging_key` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`part_size` integer NOT NULL,
	`part_count` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `blobs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`md5` text NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `blobs_md5` ON `blobs` (`md5`);--> statement-breakpoint
CREATE TABLE `dataset_version_inputs` (
	`run_uuid` text NOT NULL,
	`version_id` text NOT NULL,
	`context` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`run_uuid`, `version_id`),
	FOREIGN KEY (`run_uuid`) REFERENCES `runs`(`run_uuid`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`version_id`) REFERENCES `dataset_versions`(`version_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `dataset_version_inputs_version` ON `dataset_version_inputs` (`version_id`);--> statement-breakpoint
CREATE TABLE `dataset_versions` (
	`version_id` text PRIMARY KEY NOT NULL,
	`dataset_id` text NOT NULL,
	`version` integer NOT NULL,
	`kind` text NOT NULL,
	`root_sha256` text NOT NULL,
	`file_name` text,
	`size` integer NOT NULL,
	`file_count` integer NOT NULL,
	`content_type` text,
	`created_by_token_id` text,
	`created_by_name` text NOT NULL,
	`message` text DEFAULT '' NOT NULL,
	`git_commit` text,
	`git_branch` text,
	`parent_version_id` text,
	`row_count` integer,
	`schema` text,
	`profile` text,
	`profile_source` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`dataset_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dataset_versions_number` ON `dataset_versions` (`dataset_id`,`version`);--> statement-breakpoint
CREATE INDEX `dataset_versions_root` ON `dataset_versions` (`root_sha256`);--> statement-breakpoint
CREATE TABLE `datasets` (
	`dataset_id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL,
	`latest_version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_name_unique` ON `datasets` (`name`);--> statement-breakpoint
CREATE INDEX `datasets_updated` ON `datasets` (`updated_at`);--> statement-breakpoint
CREATE TABLE `dvc_objects` (
	`name` text PRIMARY KEY NOT NULL,
	`sha256` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `manifest_entries` (
	`manifest_sha256` text NOT NULL,
	`path` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	PRIMARY KEY(`manifest_sha256`, `path`),
	FOREIGN KEY (`manifest_sha256`) REFERENCES `manifests`(`sha256`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `manifest_entries_blob` ON `manifest_entries` (`sha256`);--> statement-breakpoint
CREATE TABLE `manifests` (
	`sha256` text PRIMARY KEY NOT NULL,
	`file_count` integer NOT NULL,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
