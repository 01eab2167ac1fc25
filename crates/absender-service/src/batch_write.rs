//! Writing results in batches without letting one bad row hold up the rest.
//!
//! A batch is one transaction: when any row fails (a value the database
//! refuses, say), all of it fails. Retrying the same batch for ever would stall
//! every result behind it, so a batch the database refuses is halved until
//! each refused row is alone; the others are written and the refused rows are
//! handed back. A database that is only away or busy is waited for instead.

use absender_store::StoreError;
use std::future::Future;
use std::time::Duration;

/// The first wait after a transient failure; it doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(100);
const MAX_WAIT: Duration = Duration::from_secs(10);

/// What to do when the database is away or busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenAway {
    /// Wait and try again until it answers (the results are all that says
    /// these were done).
    Wait,
    /// Hand the rows back at once (their work is cheap to do again).
    GiveUp,
}

/// Writes `items` with `write`; returns the rows that could not be written,
/// each with its error. Every other row was written exactly once.
pub(crate) async fn write_isolating<'a, T, F, Fut>(
    items: &'a [T],
    when_away: WhenAway,
    is_transient: impl Fn(&StoreError) -> bool,
    write: F,
) -> Vec<(&'a T, StoreError)>
where
    F: Fn(&'a [T]) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut failed = Vec::new();
    let mut pending = if items.is_empty() {
        Vec::new()
    } else {
        vec![items]
    };
    let mut wait = FIRST_WAIT;
    while let Some(part) = pending.pop() {
        match write(part).await {
            Ok(()) => wait = FIRST_WAIT,
            Err(e) if when_away == WhenAway::Wait && is_transient(&e) => {
                tracing::warn!(error = %e, rows = part.len(), "writing a batch failed; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_WAIT);
                pending.push(part);
            }
            Err(e) if part.len() == 1 => failed.push((&part[0], e)),
            Err(e) => {
                tracing::warn!(error = %e, rows = part.len(), "writing a batch failed; writing it in halves");
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

    /// A "database" that refuses any batch holding a negative number, is
    /// away for its first `away` writes, and records what it wrote.
    struct Table {
        rows: Mutex<Vec<i32>>,
        writes: Mutex<usize>,
        away: usize,
    }

    fn away(e: &StoreError) -> bool {
        matches!(e, StoreError::Corrupt(why) if why == "away")
    }

    impl Table {
        fn new(away: usize) -> Self {
            Self {
                rows: Mutex::new(Vec::new()),
                writes: Mutex::new(0),
                away,
            }
        }

        async fn write(&self, batch: &[i32]) -> Result<(), StoreError> {
            let mut writes = self.writes.lock().unwrap();
            *writes += 1;
            if *writes <= self.away {
                return Err(StoreError::Corrupt("away".into()));
            }
            if batch.iter().any(|n| *n < 0) {
                return Err(StoreError::Corrupt("negative".into()));
            }
            self.rows.lock().unwrap().extend_from_slice(batch);
            Ok(())
        }
    }

    #[tokio::test]
    async fn bad_rows_are_isolated_and_every_good_row_is_written_once() {
        let table = Table::new(0);
        let items: Vec<i32> = (1..=64).map(|n| if n % 20 == 0 { -n } else { n }).collect();
        let failed = write_isolating(&items, WhenAway::Wait, away, |b| table.write(b)).await;

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
    async fn a_database_that_is_away_is_waited_for_and_nothing_is_lost() {
        let table = Table::new(3);
        let items = [1, 2, 3];
        let failed = write_isolating(&items, WhenAway::Wait, away, |b| table.write(b)).await;
        assert!(failed.is_empty());
        assert_eq!(
            *table.rows.lock().unwrap(),
            [1, 2, 3],
            "written whole, once"
        );
        assert_eq!(*table.writes.lock().unwrap(), 4);
    }

    #[tokio::test]
    async fn work_that_is_cheap_to_redo_is_handed_back_when_the_database_is_away() {
        let table = Table::new(usize::MAX);
        let items = [1, 2];
        let failed = write_isolating(&items, WhenAway::GiveUp, away, |b| table.write(b)).await;
        assert_eq!(failed.len(), 2);
        assert!(table.rows.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_good_batch_is_one_write() {
        let table = Table::new(0);
        let items = [1, 2, 3];
        let failed = write_isolating(&items, WhenAway::Wait, away, |b| table.write(b)).await;
        assert!(failed.is_empty());
        assert_eq!(*table.writes.lock().unwrap(), 1);
        assert_eq!(*table.rows.lock().unwrap(), [1, 2, 3]);
    }
}
