-- MLflow's Default experiment: clients log to experiment "0" when none is set.
INSERT OR IGNORE INTO `experiments` (`experiment_id`, `name`, `artifact_location`, `lifecycle_stage`, `creation_time`, `last_update_time`)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
--> statement-breakpoint
-- Params are immutable. The service checks first (for MLflow's message); this makes concurrent
-- batches that race on the same key fail atomically instead of overwriting.
CREATE TRIGGER `params_immutable` BEFORE UPDATE OF `value` ON `params`
WHEN NEW.`value` IS NOT OLD.`value`
BEGIN
  SELECT RAISE(ABORT, 'TERN_PARAM_VALUE_CHANGED');
END;
