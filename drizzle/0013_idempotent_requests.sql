CREATE TABLE `idempotent_requests` (
	`principal` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`owner` text NOT NULL,
	`status` integer,
	`headers` text,
	`body` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`principal`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotent_requests_created_at` ON `idempotent_requests` (`created_at`);