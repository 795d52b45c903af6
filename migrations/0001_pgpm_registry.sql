-- jobsctl registry migration 0001: pgpm's registry.
--
-- The schema `pgpm_migrate` with the tables and routines that pgpm
-- (@pgpmjs/core 7.x) creates on a first deploy, written for jobsctl: same
-- object names, column order, types, defaults, constraint names, routine
-- argument names, types, defaults, languages and volatility, and the same
-- behaviour, so that pgpm and jobsctl can take turns on one database.
--
-- Each object is created only when it is missing. On a database where pgpm
-- (or an earlier jobsctl) already made the registry this changes nothing:
-- pgpm's own routine definitions and owners stay as they are, and no CREATE
-- privilege or ownership is needed (plain `IF NOT EXISTS` would still check
-- the privilege, and `CREATE OR REPLACE` would need ownership and could
-- overwrite a newer pgpm's routines).
--
-- The table definitions keep pgpm's shape (inline PRIMARY KEY, REFERENCES and
-- CHECK, table-level UNIQUE) so that PostgreSQL generates the same constraint
-- names on every server version.
--
-- jobsctl's installer runs this inside one transaction. Released migrations
-- are never edited: see migrations/README.md.

DO $migration$
BEGIN
    IF to_regnamespace('pgpm_migrate') IS NULL THEN
        CREATE SCHEMA pgpm_migrate;
    END IF;

    -- Packages that ever had a change recorded.
    IF to_regclass('pgpm_migrate.packages') IS NULL THEN
        CREATE TABLE pgpm_migrate.packages (
            package     text        PRIMARY KEY,
            created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
        );
    END IF;

    -- Changes deployed now; a revert deletes the row.
    IF to_regclass('pgpm_migrate.changes') IS NULL THEN
        CREATE TABLE pgpm_migrate.changes (
            change_id    text        PRIMARY KEY,
            change_name  text        NOT NULL,
            package      text        NOT NULL REFERENCES pgpm_migrate.packages (package),
            script_hash  text        NOT NULL,
            deployed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
            UNIQUE (package, change_name),
            UNIQUE (package, script_hash)
        );
    END IF;

    -- What each deployed change requires, stored as `package:change`.
    IF to_regclass('pgpm_migrate.dependencies') IS NULL THEN
        CREATE TABLE pgpm_migrate.dependencies (
            change_id  text NOT NULL REFERENCES pgpm_migrate.changes (change_id) ON DELETE CASCADE,
            requires   text NOT NULL,
            PRIMARY KEY (change_id, requires)
        );
    END IF;

    -- History: every deploy, revert and verify, failures included.
    IF to_regclass('pgpm_migrate.events') IS NULL THEN
        CREATE TABLE pgpm_migrate.events (
            event_id       serial      PRIMARY KEY,
            event_type     text        NOT NULL CHECK (event_type IN ('deploy', 'revert', 'verify')),
            change_name    text        NOT NULL,
            package        text        NOT NULL,
            occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
            error_message  text,
            error_code     text
        );
    END IF;

    IF to_regprocedure('pgpm_migrate.register_package(text)') IS NULL THEN
        CREATE PROCEDURE pgpm_migrate.register_package(p_package text)
        LANGUAGE plpgsql
        AS $body$
        BEGIN
            INSERT INTO pgpm_migrate.packages (package)
            VALUES (p_package)
            ON CONFLICT (package) DO NOTHING;
        END
        $body$;
    END IF;

    -- `other:change` names its own package; a bare name belongs to p_package.
    -- Only the first colon splits.
    IF to_regprocedure('pgpm_migrate.is_deployed(text,text)') IS NULL THEN
        CREATE FUNCTION pgpm_migrate.is_deployed(p_package text, p_change_name text)
        RETURNS boolean
        LANGUAGE plpgsql
        STABLE
        AS $body$
        DECLARE
            colon           integer := strpos(p_change_name, ':');
            target_package  text    := p_package;
            target_change   text    := p_change_name;
        BEGIN
            IF colon > 0 THEN
                target_package := left(p_change_name, colon - 1);
                target_change  := substr(p_change_name, colon + 1);
            END IF;
            RETURN EXISTS (
                SELECT 1
                FROM pgpm_migrate.changes AS c
                WHERE c.package = target_package
                  AND c.change_name = target_change
            );
        END
        $body$;
    END IF;

    -- Record (and unless p_log_only, first run) one change. Already recorded
    -- with the same hash: nothing happens. The checks run before the script.
    IF to_regprocedure('pgpm_migrate.deploy(text,text,text,text[],text,boolean)') IS NULL THEN
        CREATE PROCEDURE pgpm_migrate.deploy(
            p_package      text,
            p_change_name  text,
            p_script_hash  text,
            p_requires     text[],
            p_deploy_sql   text,
            p_log_only     boolean DEFAULT false
        )
        LANGUAGE plpgsql
        AS $body$
        DECLARE
            new_change_id  text;
            missing        text[];
        BEGIN
            CALL pgpm_migrate.register_package(p_package);

            -- The text-to-bytea cast is part of the identifier's definition.
            new_change_id := encode(sha256((p_package || p_change_name || p_script_hash)::bytea), 'hex');

            IF pgpm_migrate.is_deployed(p_package, p_change_name) THEN
                IF EXISTS (
                    SELECT 1
                    FROM pgpm_migrate.changes AS c
                    WHERE c.package = p_package
                      AND c.change_name = p_change_name
                      AND c.script_hash = p_script_hash
                ) THEN
                    RETURN;
                END IF;
                RAISE EXCEPTION 'Change % already deployed in package % with different content',
                    p_change_name, p_package;
            END IF;

            IF p_requires IS NOT NULL THEN
                SELECT array_agg(r.req ORDER BY r.ord)
                INTO missing
                FROM unnest(p_requires) WITH ORDINALITY AS r(req, ord)
                WHERE NOT pgpm_migrate.is_deployed(p_package, r.req);

                IF array_length(missing, 1) > 0 THEN
                    RAISE EXCEPTION 'Missing required changes for %: %',
                        p_change_name, array_to_string(missing, ', ');
                END IF;
            END IF;

            IF NOT p_log_only THEN
                -- A sub-block, as pgpm runs it; the script's error goes out unchanged.
                BEGIN
                    EXECUTE p_deploy_sql;
                EXCEPTION WHEN OTHERS THEN
                    RAISE;
                END;
            END IF;

            INSERT INTO pgpm_migrate.changes (change_id, change_name, package, script_hash)
            VALUES (new_change_id, p_change_name, p_package, p_script_hash);

            IF p_requires IS NOT NULL THEN
                INSERT INTO pgpm_migrate.dependencies (change_id, requires)
                SELECT new_change_id, r.req
                FROM unnest(p_requires) AS r(req);
            END IF;

            INSERT INTO pgpm_migrate.events (event_type, change_name, package)
            VALUES ('deploy', p_change_name, p_package);
        END
        $body$;
    END IF;

    -- Run a change's revert script and forget the change, unless another
    -- deployed change requires it (by local name or as `package:change`).
    IF to_regprocedure('pgpm_migrate.revert(text,text,text)') IS NULL THEN
        CREATE PROCEDURE pgpm_migrate.revert(
            p_package      text,
            p_change_name  text,
            p_revert_sql   text
        )
        LANGUAGE plpgsql
        AS $body$
        DECLARE
            required_by  text;
        BEGIN
            IF NOT pgpm_migrate.is_deployed(p_package, p_change_name) THEN
                RAISE EXCEPTION 'Change % not deployed in package %', p_change_name, p_package;
            END IF;

            SELECT string_agg(
                       CASE WHEN d.requires = p_change_name THEN c.change_name
                            ELSE c.package || ':' || c.change_name
                       END,
                       ', ' ORDER BY c.package, c.change_name)
            INTO required_by
            FROM pgpm_migrate.dependencies AS d
            JOIN pgpm_migrate.changes AS c ON c.change_id = d.change_id
            WHERE (d.requires = p_change_name AND c.package = p_package)
               OR d.requires = p_package || ':' || p_change_name;

            IF required_by IS NOT NULL THEN
                RAISE EXCEPTION 'Cannot revert %: required by %', p_change_name, required_by;
            END IF;

            BEGIN
                EXECUTE p_revert_sql;
            EXCEPTION WHEN OTHERS THEN
                RAISE;
            END;

            DELETE FROM pgpm_migrate.changes AS c
            WHERE c.package = p_package
              AND c.change_name = p_change_name;

            INSERT INTO pgpm_migrate.events (event_type, change_name, package)
            VALUES ('revert', p_change_name, p_package);
        END
        $body$;
    END IF;

    -- pgpm's verify: any error means false (the error itself is lost).
    IF to_regprocedure('pgpm_migrate.verify(text,text,text)') IS NULL THEN
        CREATE FUNCTION pgpm_migrate.verify(
            p_package      text,
            p_change_name  text,
            p_verify_sql   text
        )
        RETURNS boolean
        LANGUAGE plpgsql
        AS $body$
        BEGIN
            EXECUTE p_verify_sql;
            RETURN true;
        EXCEPTION WHEN OTHERS THEN
            RETURN false;
        END
        $body$;
    END IF;

    IF to_regprocedure('pgpm_migrate.deployed_changes(text)') IS NULL THEN
        CREATE FUNCTION pgpm_migrate.deployed_changes(p_package text DEFAULT NULL)
        RETURNS TABLE (package text, change_name text, deployed_at timestamptz)
        LANGUAGE sql
        STABLE
        AS $body$
            SELECT c.package, c.change_name, c.deployed_at
            FROM pgpm_migrate.changes AS c
            WHERE p_package IS NULL OR c.package = p_package
            ORDER BY c.deployed_at
        $body$;
    END IF;

    IF to_regprocedure('pgpm_migrate.get_dependents(text,text)') IS NULL THEN
        CREATE FUNCTION pgpm_migrate.get_dependents(p_package text, p_change_name text)
        RETURNS TABLE (package text, change_name text, dependency text)
        LANGUAGE sql
        STABLE
        AS $body$
            SELECT c.package, c.change_name, d.requires
            FROM pgpm_migrate.dependencies AS d
            JOIN pgpm_migrate.changes AS c ON c.change_id = d.change_id
            WHERE (d.requires = p_change_name AND c.package = p_package)
               OR d.requires = p_package || ':' || p_change_name
            ORDER BY c.package, c.change_name
        $body$;
    END IF;

    -- One row per package: how many changes, and the latest one.
    IF to_regprocedure('pgpm_migrate.status(text)') IS NULL THEN
        CREATE FUNCTION pgpm_migrate.status(p_package text DEFAULT NULL)
        RETURNS TABLE (package text, total_deployed integer, last_change text, last_deployed timestamptz)
        LANGUAGE sql
        STABLE
        AS $body$
            SELECT c.package,
                   count(*)::integer,
                   (array_agg(c.change_name ORDER BY c.deployed_at DESC))[1],
                   max(c.deployed_at)
            FROM pgpm_migrate.changes AS c
            WHERE p_package IS NULL OR c.package = p_package
            GROUP BY c.package
            ORDER BY c.package
        $body$;
    END IF;
END
$migration$;
