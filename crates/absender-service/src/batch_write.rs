//! Writing results in batches without letting one bad row hold up the rest.
//!
//! A batch is one transaction: when any row fails (a value the database
//! refuses, say), all of it fails. Retrying the same batch for ever would stall
//! every result behind it, so a failing batch is tried again a few times (the
//! database may be busy or restarting), then halved until each failing row is
//! alone; the others are written and the lone failures are handed back.

use absender_store::StoreError;
use std::future::Future;
use std::time::Duration;

/// Waits before trying a whole failed batch again, for a database that is
/// only briefly away.
pub(crate) const RETRY_WAITS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(5),
];

/// Writes `items` with `write`: the whole batch first (again after each of
/// `retry_waits`), then halves of it. Returns the rows that could not be
/// written, each with its error; every other row was written exactly once.
pub(crate) async fn write_isolating<'a, T, F, Fut>(
    items: &'a [T],
    retry_waits: &[Duration],
    write: F,
) -> Vec<(&'a T, StoreError)>
where
    F: Fn(&'a [T]) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    if items.is_empty() {
        return Vec::new();
    }
    let mut waits = retry_waits.iter();
    loop {
        match write(items).await {
            Ok(()) => return Vec::new(),
            Err(e) => match waits.next() {
                Some(wait) => {
                    tracing::warn!(error = %e, rows = items.len(), "writing a batch failed; trying again");
                    tokio::time::sleep(*wait).await;
                }
                None if items.len() == 1 => return vec![(&items[0], e)],
                None => {
                    tracing::warn!(error = %e, rows = items.len(), "writing a batch failed; writing it in halves");
                    break;
                }
            },
        }
    }
    let mut failed = Vec::new();
    let (left, right) = items.split_at(items.len() / 2);
    let mut pending = vec![right, left];
    while let Some(part) = pending.pop() {
        match write(part).await {
            Ok(()) => {}
            Err(e) if part.len() == 1 => failed.push((&part[0], e)),
            Err(_) => {
                let (left, right) = part.split_at(part.len() / 2);
                pending.push(right);
                pending.push(left);
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A "database" that refuses any batch holding a negative number and
    /// records what it wrote and how often it was asked.
    struct Table {
        rows: Mutex<Vec<i32>>,
        writes: Mutex<usize>,
    }

    impl Table {
        fn new() -> Self {
            Self {
                rows: Mutex::new(Vec::new()),
                writes: Mutex::new(0),
            }
        }

        async fn write(&self, batch: &[i32]) -> Result<(), StoreError> {
            *self.writes.lock().unwrap() += 1;
            if batch.iter().any(|n| *n < 0) {
                return Err(StoreError::Corrupt("negative".into()));
            }
            self.rows.lock().unwrap().extend_from_slice(batch);
            Ok(())
        }
    }

    #[tokio::test]
    async fn bad_rows_are_isolated_and_every_good_row_is_written_once() {
        let table = Table::new();
        let items: Vec<i32> = (1..=64).map(|n| if n % 20 == 0 { -n } else { n }).collect();
        let failed = write_isolating(&items, &[], |b| table.write(b)).await;

        let mut bad: Vec<i32> = failed.iter().map(|(n, _)| **n).collect();
        bad.sort();
        assert_eq!(bad, [-60, -40, -20]);
        let mut written = table.rows.lock().unwrap().clone();
        written.sort();
        let good: Vec<i32> = items.iter().copied().filter(|n| *n > 0).collect();
        assert_eq!(written, good);
        // Halving costs about two writes per level per bad row, not one per row.
        assert!(*table.writes.lock().unwrap() <= 1 + 3 * 2 * 6, "bounded");
    }

    #[tokio::test]
    async fn a_whole_batch_is_retried_a_bounded_number_of_times() {
        let table = Table::new();
        let items = [-1];
        let waits = [Duration::from_millis(1), Duration::from_millis(1)];
        let failed = write_isolating(&items, &waits, |b| table.write(b)).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(*table.writes.lock().unwrap(), 3, "once and two retries");
    }

    #[tokio::test]
    async fn a_good_batch_is_one_write() {
        let table = Table::new();
        let items = [1, 2, 3];
        assert!(
            write_isolating(&items, &RETRY_WAITS, |b| table.write(b))
                .await
                .is_empty()
        );
        assert_eq!(*table.writes.lock().unwrap(), 1);
        assert_eq!(*table.rows.lock().unwrap(), [1, 2, 3]);
    }
}
