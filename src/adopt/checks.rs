//! The read-only preconditions of an adoption, each with its result: the
//! catalog of app_jobs is exactly the published release's; no row breaks a
//! constraint of ours (listed by id: refused, never dropped or changed); no
//! user object depends on app_jobs; the roles pgpm-default-roles would
//! change; the connecting role may alter every object. Only SELECTs.

use super::fingerprint::{Adoptable, OBJECTS_SQL};
use postgres::GenericClient;
use serde::Serialize;
use std::collections::BTreeMap;

/// One precondition and what was found.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// A failed blocking check refuses the adoption; others are notes.
    pub blocking: bool,
    pub summary: String,
    pub details: Vec<String>,
}

impl Check {
    fn new(
        name: &'static str,
        blocking: bool,
        ok: &str,
        bad: String,
        details: Vec<String>,
    ) -> Check {
        Check {
            name,
            passed: details.is_empty(),
            blocking,
            summary: if details.is_empty() {
                ok.to_owned()
            } else {
                bad
            },
            details,
        }
    }

    pub fn refuses(&self) -> bool {
        self.blocking && !self.passed
    }
}

pub struct Options {
    /// pgpm-default-roles has changes to deploy (its role DDL would run).
    pub roles_pending: bool,
    /// `--allow-role-changes`.
    pub allow_role_changes: bool,
}

type Result<T> = std::result::Result<T, postgres::Error>;

/// Every check, in order. The row checks need the published columns, so
/// they run only when the catalog matches. Must be called inside a
/// transaction: it pins the search_path with SET LOCAL.
pub fn run(
    client: &mut impl GenericClient,
    known: &Adoptable,
    options: &Options,
) -> Result<Vec<Check>> {
    client.batch_execute("SET LOCAL search_path = pg_catalog, pg_temp")?;
    let mut checks = vec![objects(client, known)?];
    if checks[0].passed {
        checks.push(jobs_rows(client)?);
        checks.push(scheduled_rows(client)?);
        checks.push(queue_rows(client)?);
    }
    checks.push(dependents(client)?);
    checks.push(roles(client, options)?);
    checks.push(ownership(client)?);
    if checks[0].passed {
        checks.push(stale_queue_locks(client)?);
    }
    Ok(checks)
}

/// `kind name` → definition, from `kind \t name \t definition` lines.
fn parse_objects(text: &str) -> BTreeMap<(String, String), String> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some((
                (parts.next()?.to_owned(), parts.next()?.to_owned()),
                parts.next()?.to_owned(),
            ))
        })
        .collect()
}

/// The catalog of app_jobs as rendered by `sql/objects.sql`. Called in a
/// transaction whose search_path is pinned ([`run`]), so that names render
/// qualified the same way whatever the role's search_path is.
pub fn read_objects(client: &mut impl GenericClient) -> Result<String> {
    let rows = client.query(OBJECTS_SQL, &[])?;
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\n",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2)
            )
        })
        .collect())
}

fn objects(client: &mut impl GenericClient, known: &Adoptable) -> Result<Check> {
    let expected = parse_objects(known.objects);
    let found = parse_objects(&read_objects(client)?);
    let mut details = Vec::new();
    for ((kind, name), definition) in &expected {
        match found.get(&(kind.clone(), name.clone())) {
            None => details.push(format!("missing {kind} {name}: {definition}")),
            Some(other) if other != definition => details.push(format!(
                "different {kind} {name}: {other} (published: {definition})"
            )),
            Some(_) => {}
        }
    }
    for ((kind, name), definition) in &found {
        if !expected.contains_key(&(kind.clone(), name.clone())) {
            details.push(format!("extra {kind} {name}: {definition}"));
        }
    }
    Ok(Check::new(
        "objects",
        true,
        &format!(
            "app_jobs has exactly the tables, columns, constraints, indexes, triggers and functions of {}",
            known.fingerprint.describe()
        ),
        format!(
            "app_jobs differs from {} as published in {} place(s) (edited by hand?)",
            known.fingerprint.describe(),
            details.len()
        ),
        details,
    ))
}

fn ids(client: &mut impl GenericClient, sql: &str) -> Result<Vec<i64>> {
    Ok(client.query_one(sql, &[])?.get(0))
}

fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn jobs_rows(client: &mut impl GenericClient) -> Result<Check> {
    let negative = ids(
        client,
        "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_jobs.jobs WHERE attempts < 0",
    )?;
    let half = ids(
        client,
        "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_jobs.jobs \
         WHERE (locked_at IS NULL) <> (locked_by IS NULL)",
    )?;
    let mut details = Vec::new();
    if !negative.is_empty() {
        details.push(format!(
            "jobs with attempts < 0 (our CHECK attempts >= 0 rejects them; upstream reschedule_jobs can set them): ids {}; set attempts to 0 or more, e.g. with app_jobs.reschedule_jobs",
            id_list(&negative)
        ));
    }
    if !half.is_empty() {
        details.push(format!(
            "jobs with only one of locked_at/locked_by set (our CHECK rejects them): ids {}; set both or neither",
            id_list(&half)
        ));
    }
    Ok(Check::new(
        "jobs rows",
        true,
        "every job satisfies our constraints",
        "jobs rows that our constraints reject".into(),
        details,
    ))
}

fn scheduled_rows(client: &mut impl GenericClient) -> Result<Check> {
    let not_object = ids(
        client,
        "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_jobs.scheduled_jobs \
         WHERE json_typeof(schedule_info) IS DISTINCT FROM 'object'",
    )?;
    let half = ids(
        client,
        "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_jobs.scheduled_jobs \
         WHERE (locked_at IS NULL) <> (locked_by IS NULL)",
    )?;
    let mut details = Vec::new();
    if !not_object.is_empty() {
        details.push(format!(
            "scheduled jobs whose schedule_info is not a JSON object (e.g. a cron string, which \
             node-schedule accepts and our CHECK rejects): ids {}; jobsctl neither drops nor \
             rewrites them: change each to an object (a cron string s becomes {{\"rule\": s}}) \
             or delete it, then run jobsctl adopt again",
            id_list(&not_object)
        ));
    }
    if !half.is_empty() {
        details.push(format!(
            "scheduled jobs with only one of locked_at/locked_by set: ids {}; set both or neither",
            id_list(&half)
        ));
    }
    Ok(Check::new(
        "scheduled_jobs rows",
        true,
        "every scheduled job satisfies our constraints",
        "scheduled_jobs rows that our constraints reject".into(),
        details,
    ))
}

fn queue_rows(client: &mut impl GenericClient) -> Result<Check> {
    let names: Vec<String> = client
        .query_one(
            "SELECT coalesce(array_agg(queue_name ORDER BY queue_name), '{}') FROM app_jobs.job_queues \
             WHERE (locked_at IS NULL) <> (locked_by IS NULL)",
            &[],
        )?
        .get(0);
    let details = if names.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "job_queues rows with only one of locked_at/locked_by set: {}; set both or neither",
            names.join(", ")
        )]
    };
    Ok(Check::new(
        "job_queues rows",
        true,
        "every queue row satisfies our constraints",
        "job_queues rows that our constraints reject".into(),
        details,
    ))
}

/// Objects outside app_jobs that depend on something in it (pg_depend,
/// normal dependencies): triggers calling the upstream helpers (whose
/// argument convention ours does not share), views, foreign keys,
/// functions using the row types, defaults.
fn dependents(client: &mut impl GenericClient) -> Result<Check> {
    let rows = client.query(
        "SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), \
                pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) \
           FROM pg_catalog.pg_depend AS d \
          WHERE d.deptype = 'n' \
            AND ((d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid IN \
                   (SELECT oid FROM pg_catalog.pg_class WHERE relnamespace = 'app_jobs'::regnamespace)) \
              OR (d.refclassid = 'pg_catalog.pg_proc'::regclass AND d.refobjid IN \
                   (SELECT oid FROM pg_catalog.pg_proc WHERE pronamespace = 'app_jobs'::regnamespace)) \
              OR (d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid IN \
                   (SELECT oid FROM pg_catalog.pg_type WHERE typnamespace = 'app_jobs'::regnamespace))) \
            AND (CASE d.classid \
                   WHEN 'pg_catalog.pg_class'::regclass THEN \
                     (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = d.objid) \
                   WHEN 'pg_catalog.pg_proc'::regclass THEN \
                     (SELECT pronamespace FROM pg_catalog.pg_proc WHERE oid = d.objid) \
                   WHEN 'pg_catalog.pg_type'::regclass THEN \
                     (SELECT typnamespace FROM pg_catalog.pg_type WHERE oid = d.objid) \
                   WHEN 'pg_catalog.pg_constraint'::regclass THEN \
                     (SELECT connamespace FROM pg_catalog.pg_constraint WHERE oid = d.objid) \
                   WHEN 'pg_catalog.pg_trigger'::regclass THEN \
                     (SELECT c.relnamespace FROM pg_catalog.pg_trigger t \
                        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid) \
                   WHEN 'pg_catalog.pg_rewrite'::regclass THEN \
                     (SELECT c.relnamespace FROM pg_catalog.pg_rewrite r \
                        JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid) \
                   WHEN 'pg_catalog.pg_attrdef'::regclass THEN \
                     (SELECT c.relnamespace FROM pg_catalog.pg_attrdef a \
                        JOIN pg_catalog.pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid) \
                   WHEN 'pg_catalog.pg_policy'::regclass THEN \
                     (SELECT c.relnamespace FROM pg_catalog.pg_policy p \
                        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE p.oid = d.objid) \
                 END) IS DISTINCT FROM 'app_jobs'::regnamespace \
          ORDER BY 1, 2",
        &[],
    )?;
    let details: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} depends on {}",
                r.get::<_, String>(0),
                r.get::<_, String>(1)
            )
        })
        .collect();
    Ok(Check::new(
        "dependents",
        true,
        "no object outside app_jobs depends on it",
        "objects outside app_jobs depend on it: the conversion would break them (an upstream-style \
         trigger on tg_add_job_with_row(_id)/trigger_job_with_fields passes the task where ours \
         expects a tenant id); drop them, adopt, then re-create them for our functions \
         (docs/app_jobs.md)"
            .into(),
        details,
    ))
}

/// What pgpm-default-roles' scripts would change on existing roles: the
/// same comparison its DO blocks make.
fn roles(client: &mut impl GenericClient, options: &Options) -> Result<Check> {
    let mut details = Vec::new();
    if options.roles_pending {
        let rows = client.query(
            "SELECT w.name, r.oid IS NOT NULL, \
                    concat_ws(' ', \
                      CASE WHEN r.rolcanlogin THEN 'NOLOGIN' END, \
                      CASE WHEN r.rolsuper THEN 'NOSUPERUSER' END, \
                      CASE WHEN r.rolcreatedb THEN 'NOCREATEDB' END, \
                      CASE WHEN r.rolcreaterole THEN 'NOCREATEROLE' END, \
                      CASE WHEN r.rolreplication THEN 'NOREPLICATION' END, \
                      CASE WHEN r.rolbypassrls AND NOT w.bypass THEN 'NOBYPASSRLS' END, \
                      CASE WHEN w.bypass AND NOT r.rolbypassrls THEN 'BYPASSRLS' END, \
                      CASE WHEN NOT r.rolinherit THEN 'INHERIT' END), \
                    ARRAY(SELECT g FROM unnest(w.groups) AS g \
                           WHERE r.oid IS NOT NULL AND NOT EXISTS ( \
                             SELECT 1 FROM pg_catalog.pg_auth_members m \
                              JOIN pg_catalog.pg_roles gr ON gr.oid = m.roleid \
                             WHERE gr.rolname = g AND m.member = r.oid) ORDER BY g) \
               FROM (VALUES ('anonymous', false, '{}'::text[]), \
                            ('authenticated', false, '{}'::text[]), \
                            ('administrator', true, '{anonymous,authenticated}'::text[])) \
                    AS w(name, bypass, groups) \
               LEFT JOIN pg_catalog.pg_roles r ON r.rolname = w.name \
              ORDER BY w.name",
            &[],
        )?;
        for row in rows {
            let (name, exists): (String, bool) = (row.get(0), row.get(1));
            let fix: Option<String> = row.get(2);
            let groups: Vec<String> = row.get(3);
            if !exists {
                continue;
            }
            let mut what = Vec::new();
            if let Some(fix) = fix.filter(|f| !f.is_empty()) {
                what.push(format!("ALTER ROLE {name} {fix}"));
            }
            for group in groups {
                what.push(format!("GRANT {group} TO {name}"));
            }
            if !what.is_empty() {
                details.push(format!(
                    "role {name} exists with other attributes; pgpm-default-roles would run: {}",
                    what.join("; ")
                ));
            }
        }
    }
    let blocking = !options.allow_role_changes;
    let mut check = Check::new(
        "roles",
        blocking,
        if options.roles_pending {
            "pgpm-default-roles changes no existing role (it creates the missing ones)"
        } else {
            "pgpm-default-roles is deployed already"
        },
        format!(
            "pgpm-default-roles would change existing roles (roles are cluster-wide: every \
             database of the cluster sees it; an administrator that workers log in with loses \
             LOGIN){}",
            if blocking {
                "; rerun with --allow-role-changes to accept"
            } else {
                "; accepted with --allow-role-changes"
            }
        ),
        details,
    );
    if !blocking {
        // Accepted: reported, not refused.
        check.passed = check.details.is_empty();
    }
    Ok(check)
}

/// The connecting role must own (or be a member of the owner of) every
/// object the conversion alters or replaces, and of the default privileges
/// it revokes.
fn ownership(client: &mut impl GenericClient) -> Result<Check> {
    let rows = client.query(
        "SELECT format('%s %s (owner %s)', o.kind, o.name, pg_catalog.pg_get_userbyid(o.owner)) FROM ( \
           SELECT 'table' AS kind, c.oid::regclass::text AS name, c.relowner AS owner \
             FROM pg_catalog.pg_class c WHERE c.relnamespace = 'app_jobs'::regnamespace AND c.relkind IN ('r', 'S') \
           UNION ALL \
           SELECT 'function', p.oid::regprocedure::text, p.proowner \
             FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'app_jobs'::regnamespace \
           UNION ALL \
           SELECT 'schema', n.nspname::text, n.nspowner \
             FROM pg_catalog.pg_namespace n WHERE n.nspname = 'app_jobs' \
           UNION ALL \
           SELECT 'default privileges of', 'app_jobs', d.defaclrole \
             FROM pg_catalog.pg_default_acl d WHERE d.defaclnamespace = 'app_jobs'::regnamespace) AS o \
          WHERE NOT pg_catalog.pg_has_role(current_user, o.owner, 'USAGE') \
          ORDER BY 1",
        &[],
    )?;
    let details: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(Check::new(
        "ownership",
        true,
        "the connecting role may alter every object of app_jobs",
        "the connecting role neither owns nor is a member of the owner of these objects; connect \
         as their owner (or a superuser)"
            .into(),
        details,
    ))
}

/// Not blocking: queue locks whose worker runs no job of the queue (left
/// by an upstream worker that died). They are kept; our get_job frees
/// them once their lock expires.
fn stale_queue_locks(client: &mut impl GenericClient) -> Result<Check> {
    let rows = client.query(
        "SELECT format('queue %s locked by %s since %s, which runs no job of it', \
                       q.queue_name, q.locked_by, q.locked_at) \
           FROM app_jobs.job_queues q \
          WHERE q.locked_by IS NOT NULL AND NOT EXISTS ( \
                SELECT 1 FROM app_jobs.jobs j \
                 WHERE j.queue_name = q.queue_name AND j.locked_by = q.locked_by) \
          ORDER BY q.queue_name",
        &[],
    )?;
    let details: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(Check::new(
        "queue locks",
        false,
        "every locked queue is locked by the worker running its job",
        "queue locks kept although their worker runs no job of the queue (freed by get_job once expired)"
            .into(),
        details,
    ))
}
