//! The test harness itself: a throwaway cluster and a database per test.

mod common;

use common::pg::TestDb;

#[test]
fn each_test_gets_its_own_empty_database() {
    let (a, b) = (TestDb::new("a"), TestDb::new("b"));
    assert_ne!(a.name, b.name);
    a.client()
        .batch_execute("CREATE TABLE only_in_a ()")
        .unwrap();
    assert_eq!(
        b.value("SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'")
            .as_deref(),
        Some("0")
    );
    assert_eq!(a.value("SELECT current_database()"), Some(a.name.clone()));
}
