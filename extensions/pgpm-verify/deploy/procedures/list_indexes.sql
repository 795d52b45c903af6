-- Deploy pgpm-verify:procedures/list_indexes to pg

BEGIN;

-- The table is resolved with to_regclass so that an unqualified name follows
-- search_path exactly as a query would; indexes always live in their
-- table's schema, so the index is matched by its bare name.
-- A NULL _index lists every index of the table.
CREATE FUNCTION public.list_indexes(_table text, _index text)
RETURNS TABLE (schema_name text, table_name text, index_name text)
LANGUAGE sql STABLE
AS $$
  SELECT n.nspname::text, t.relname::text, i.relname::text
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
    JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
   WHERE x.indrelid = pg_catalog.to_regclass(_table)
     AND (_index IS NULL OR i.relname = _index)
   ORDER BY i.relname;
$$;

COMMIT;
