-- Deploy pgpm-verify:procedures/verify_index to pg
-- requires: procedures/list_indexes

BEGIN;

CREATE FUNCTION public.verify_index(_table text, _index text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF pg_catalog.to_regclass(_table) IS NULL THEN
    RAISE EXCEPTION 'Nonexistent index --> %', _index
      USING ERRCODE = 'undefined_table',
            HINT = pg_catalog.format('Table %s does not exist or is not on search_path.', _table);
  END IF;
  -- A NULL _index would make list_indexes list everything; a check needs a name.
  IF _index IS NULL OR NOT EXISTS (SELECT 1 FROM public.list_indexes(_table, _index)) THEN
    RAISE EXCEPTION 'Nonexistent index --> %', _index
      USING ERRCODE = 'undefined_table',
            HINT = pg_catalog.format('Check that the index is defined on %s itself (give its bare name, not schema-qualified).', _table);
  END IF;
  RETURN true;
END;
$$;

COMMIT;
