-- Deploy pgpm-verify:procedures/verify_extension to pg

BEGIN;

-- Only pg_extension counts: an extension that is merely available on the
-- server provides nothing to this database until CREATE EXTENSION runs.
CREATE FUNCTION public.verify_extension(_extname text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname = _extname) THEN
    RETURN true;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a WHERE a.name = _extname) THEN
    RAISE EXCEPTION 'Nonexistent extension --> %', _extname
      USING ERRCODE = 'undefined_object',
            HINT = pg_catalog.format('%s is available on the server but not installed in database %s; run CREATE EXTENSION.',
                          _extname, pg_catalog.current_database());
  END IF;
  RAISE EXCEPTION 'Nonexistent extension --> %', _extname
    USING ERRCODE = 'undefined_object',
          HINT = 'The extension is not even available on this server; install its package.';
END;
$$;

COMMIT;
