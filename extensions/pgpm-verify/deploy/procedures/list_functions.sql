-- Deploy pgpm-verify:procedures/list_functions to pg
-- requires: procedures/get_entity_from_str
-- requires: procedures/get_schema_from_str

BEGIN;

-- One resolver shared by every function check, so that "by name" and
-- "by signature" mean the same thing everywhere.
CREATE FUNCTION public.list_functions(_name text)
RETURNS SETOF regprocedure
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  sig regprocedure;
BEGIN
  IF _name IS NULL THEN
    RETURN;
  END IF;

  IF pg_catalog.strpos(_name, '(') > 0 THEN
    BEGIN
      sig := pg_catalog.to_regprocedure(_name);
    EXCEPTION WHEN undefined_object THEN
      -- Up to PostgreSQL 15 an unknown argument type raises here instead of
      -- yielding NULL; for a check it simply means "no such function".
      sig := NULL;
    END;
    IF sig IS NOT NULL THEN
      RETURN NEXT sig;
    END IF;
    RETURN;
  END IF;

  IF pg_catalog.cardinality(pg_catalog.parse_ident(_name)) > 1 THEN
    RETURN QUERY
      SELECT p.oid::regprocedure
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = public.get_schema_from_str(_name)
         AND p.proname = public.get_entity_from_str(_name)
       ORDER BY 1;
  ELSE
    -- Unqualified: any overload the caller could reach through search_path
    -- (pg_catalog and pg_temp included, as the parser would).
    RETURN QUERY
      SELECT p.oid::regprocedure
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = ANY (pg_catalog.current_schemas(true))
         AND p.proname = public.get_entity_from_str(_name)
       ORDER BY 1;
  END IF;
END;
$$;

COMMIT;
