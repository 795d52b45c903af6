//! Plan awareness: which table a statement works on, which tables the run
//! creates, and whether a finding concerns a table that is new in this run
//! (created earlier in the same script, or by an earlier pending change of
//! any package, in deploy order). A lock on a table nobody else uses yet
//! blocks nobody, so the lock-risk findings on it are dropped.

use squawk_linter::Rule;
use squawk_syntax::SourceFile;
use squawk_syntax::ast::{self, AstNode};
use std::fmt;

/// A table name as PostgreSQL folds it: unquoted names lower-cased, quotes
/// removed; the schema when the statement names one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

impl TableName {
    /// The same table, as far as the text can tell: the names are equal and
    /// the schemas are equal or one of them is not given (the search path
    /// is not known offline).
    pub fn matches(&self, other: &TableName) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The rules whose findings are about taking a lock on (or rewriting) an
/// existing table, or about breaking code that already uses it, and so do
/// not apply to a table created in the same run.
pub fn is_table_lock_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::RequireConcurrentIndexCreation
            | Rule::ConstraintMissingNotValid
            | Rule::AddingForeignKeyConstraint
            | Rule::AddingFieldWithDefault
            | Rule::AddingNotNullableField
            | Rule::AddingRequiredField
            | Rule::AddingSerialPrimaryKeyField
            | Rule::ChangingColumnType
            | Rule::DisallowedUniqueConstraint
            | Rule::RequireConcurrentPartitionDetach
            | Rule::BanDropColumn
            | Rule::RenamingColumn
            | Rule::RenamingTable
    )
}

/// A top-level statement of a parsed script.
pub struct Statement {
    pub start: usize,
    pub end: usize,
    /// The table it creates, if it is `CREATE TABLE`.
    pub creates: Option<TableName>,
    /// The table it locks or changes: `CREATE INDEX ... ON t`, `ALTER TABLE t`.
    pub targets: Option<TableName>,
}

/// The top-level statements of `file`, in order.
pub fn statements(file: &SourceFile) -> Vec<Statement> {
    file.stmts()
        .map(|stmt| {
            let node = stmt.syntax().clone();
            let start = usize::from(
                node.children_with_tokens()
                    .find(|c| !c.kind().is_trivia())
                    .map_or(node.text_range().start(), |c| c.text_range().start()),
            );
            let end = usize::from(node.text_range().end());
            let (creates, targets) = match &stmt {
                ast::Stmt::CreateTable(create) => (
                    create
                        .table_name()
                        .and_then(|t| t.path())
                        .and_then(|p| path_name(&p)),
                    None,
                ),
                ast::Stmt::CreateIndex(index) => (
                    None,
                    index
                        .table_relation_name()
                        .and_then(|r| r.table_name_ref())
                        .and_then(|t| t.path_ref())
                        .and_then(|p| path_ref_name(&p)),
                ),
                ast::Stmt::AlterTable(alter) => (
                    None,
                    alter
                        .table_relation_name()
                        .and_then(|r| r.table_name_ref())
                        .and_then(|t| t.path_ref())
                        .and_then(|p| path_ref_name(&p)),
                ),
                _ => (None, None),
            };
            Statement {
                start,
                end,
                creates,
                targets,
            }
        })
        .collect()
}

/// The index of the statement that contains byte `offset` (or the last one
/// starting before it).
pub fn statement_at(statements: &[Statement], offset: usize) -> Option<usize> {
    statements
        .iter()
        .position(|s| s.start <= offset && offset < s.end)
        .or_else(|| statements.iter().rposition(|s| s.start <= offset))
}

fn path_name(path: &ast::Path) -> Option<TableName> {
    Some(TableName {
        schema: path.qualifier().and_then(|q| q.segment()).map(|s| s.text()),
        name: path.segment()?.text(),
    })
}

fn path_ref_name(path: &ast::PathRef) -> Option<TableName> {
    Some(TableName {
        schema: path.qualifier().and_then(|q| q.segment()).map(|s| s.text()),
        name: path.segment()?.text(),
    })
}
