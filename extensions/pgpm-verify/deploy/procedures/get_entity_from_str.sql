-- Deploy pgpm-verify:procedures/get_entity_from_str to pg

BEGIN;

-- parse_ident applies the server's own identifier rules (quoted parts keep
-- their case and may contain dots, unquoted parts fold to lower case), so
-- callers pass a name exactly as they would write it in SQL.
CREATE FUNCTION public.get_entity_from_str(qualified_name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
AS $$
DECLARE
  parts text[] := pg_catalog.parse_ident(qualified_name);
BEGIN
  -- A third part would be a catalog (database) name; silently dropping it
  -- could make a check look at the wrong object.
  IF pg_catalog.cardinality(parts) > 2 THEN
    RAISE EXCEPTION 'improper qualified name (too many dotted names): %', qualified_name
      USING ERRCODE = 'syntax_error';
  END IF;
  RETURN parts[pg_catalog.cardinality(parts)];
END;
$$;

COMMIT;
