-- Deploy pgpm-verify:procedures/get_schema_from_str to pg

BEGIN;

CREATE FUNCTION public.get_schema_from_str(qualified_name text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
  parts text[] := pg_catalog.parse_ident(qualified_name);
BEGIN
  IF pg_catalog.cardinality(parts) > 2 THEN
    RAISE EXCEPTION 'improper qualified name (too many dotted names): %', qualified_name
      USING ERRCODE = 'syntax_error';
  ELSIF pg_catalog.cardinality(parts) = 2 THEN
    RETURN parts[1];
  END IF;
  -- An unqualified name belongs where an unqualified CREATE would put it:
  -- the first existing schema of search_path.  When there is none this is
  -- NULL, so that a lookup built on it finds nothing instead of guessing.
  RETURN pg_catalog.current_schema();
END;
$$;

COMMIT;
