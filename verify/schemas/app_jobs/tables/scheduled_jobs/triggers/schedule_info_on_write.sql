-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/triggers/schedule_info_on_write on pg

BEGIN;

-- 'schema.trigger' is the form every published pgpm-verify accepts (pgpm
-- may have installed an older one); the table is pinned below.
SELECT verify_trigger('app_jobs.schedule_info_on_write');

-- enabled, calling the check function, before every insert and every
-- update of schedule_info
DO $$
BEGIN
  IF NOT EXISTS (
       SELECT 1 FROM pg_trigger tg
        WHERE tg.tgrelid = 'app_jobs.scheduled_jobs'::regclass
          AND tg.tgname = 'schedule_info_on_write'
          AND tg.tgenabled <> 'D'
          AND tg.tgfoid = 'app_jobs.tg_check_schedule_info()'::regprocedure
          AND position('BEFORE INSERT OR UPDATE OF schedule_info ON app_jobs.scheduled_jobs FOR EACH ROW'
                       IN regexp_replace(pg_get_triggerdef(tg.oid), ' ON (app_jobs\.)?scheduled_jobs ', ' ON app_jobs.scheduled_jobs ')) > 0) THEN
    RAISE EXCEPTION 'trigger schedule_info_on_write on app_jobs.scheduled_jobs is missing, disabled or not BEFORE INSERT OR UPDATE OF schedule_info FOR EACH ROW';
  END IF;
END;
$$;

ROLLBACK;
