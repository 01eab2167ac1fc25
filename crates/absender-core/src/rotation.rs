//! DKIM key rotation behind Easy DKIM's three selectors. The customer's
//! CNAMEs never change: each selector (a slot) keeps its name while the key
//! behind it is replaced. One slot signs; a new key goes into a slot that
//! signed nothing still queued, and signing moves to it only once every
//! resolver can have seen it (`signs_from`). Pure: the caller brings the
//! keys, the time and the oldest queued mail.

/// One slot's key as rotation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySlot {
    pub slot: i64,
    /// When the key starts (or started) signing; 0 for keys made before
    /// rotation existed, of which the lowest slot signs.
    pub signs_from: i64,
}

/// Why a rotation cannot start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotNow {
    /// A new key waits for its turn to sign.
    InProgress { signs_from: i64 },
    /// Every other slot signed mail that is still queued (or only just
    /// stopped signing); it must leave first.
    MailStillQueued,
}

/// The slot that signs at `now`: of the keys whose time has come, the one
/// whose time came last (ties: the lowest slot).
pub fn signer(slots: &[KeySlot], now: i64) -> Option<i64> {
    slots
        .iter()
        .filter(|k| k.signs_from <= now)
        .max_by_key(|k| (k.signs_from, -k.slot))
        .map(|k| k.slot)
}

/// When `key` signed: from its start until the next key's start (`None`
/// at the end: still signing), or `None` if it never won its turn.
fn signing_span(slots: &[KeySlot], key: &KeySlot) -> Option<(i64, Option<i64>)> {
    let lost_tie = slots
        .iter()
        .any(|k| k.signs_from == key.signs_from && k.slot < key.slot);
    if lost_tie {
        return None;
    }
    let end = slots
        .iter()
        .filter(|k| k.signs_from > key.signs_from)
        .map(|k| k.signs_from)
        .min();
    Some((key.signs_from, end))
}

/// The slot that takes the next key at `now`: one that never signed, else
/// the one that stopped signing longest ago, provided that was at least
/// `gap` ago (caches of the old key have run out) and before the oldest
/// mail still queued from the domain (`oldest_queued`), so that no
/// accepted mail loses the key that signed it.
pub fn next_slot(
    slots: &[KeySlot],
    now: i64,
    oldest_queued: Option<i64>,
    gap: i64,
) -> Result<i64, NotNow> {
    if let Some(pending) = slots.iter().find(|k| k.signs_from > now) {
        return Err(NotNow::InProgress {
            signs_from: pending.signs_from,
        });
    }
    let current = signer(slots, now);
    slots
        .iter()
        .filter(|k| Some(k.slot) != current)
        .filter_map(|k| match signing_span(slots, k) {
            None => Some((i64::MIN, k.slot)),
            Some((_, Some(end))) if end + gap <= now && oldest_queued.is_none_or(|q| q >= end) => {
                Some((end, k.slot))
            }
            Some(_) => None,
        })
        .min()
        .map(|(_, slot)| slot)
        .ok_or(NotNow::MailStillQueued)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: i64 = 600_000;
    const DAY: i64 = 86_400_000;

    fn slots(signs_from: [i64; 3]) -> Vec<KeySlot> {
        signs_from
            .into_iter()
            .zip(0..)
            .map(|(signs_from, slot)| KeySlot { slot, signs_from })
            .collect()
    }

    #[test]
    fn keys_from_before_rotation_sign_with_the_lowest_slot() {
        let keys = slots([0, 0, 0]);
        assert_eq!(signer(&keys, DAY), Some(0));
        // Slot 1 never signed: it takes the first new key at once.
        assert_eq!(next_slot(&keys, DAY, Some(DAY - 1), GAP), Ok(1));
    }

    #[test]
    fn signing_moves_to_the_new_key_only_when_its_time_comes() {
        let keys = slots([0, 10 * DAY, 0]);
        assert_eq!(signer(&keys, 10 * DAY - 1), Some(0));
        assert_eq!(signer(&keys, 10 * DAY), Some(1));
        assert_eq!(
            next_slot(&keys, 10 * DAY - 1, None, GAP),
            Err(NotNow::InProgress {
                signs_from: 10 * DAY
            })
        );
    }

    #[test]
    fn a_slot_whose_mail_is_still_queued_keeps_its_key() {
        // Slot 0 signed until day 10, slot 1 since; slot 2 never signed.
        let keys = slots([0, 10 * DAY, 0]);
        assert_eq!(next_slot(&keys, 11 * DAY, Some(DAY), GAP), Ok(2));
        // After slot 2 took a key on day 11 and signs since day 12:
        let keys = slots([0, 10 * DAY, 12 * DAY]);
        assert_eq!(signer(&keys, 13 * DAY), Some(2));
        // Slot 0 stopped on day 10: replaceable once no mail from before is queued…
        assert_eq!(
            next_slot(&keys, 13 * DAY, Some(9 * DAY), GAP),
            Err(NotNow::MailStillQueued)
        );
        assert_eq!(next_slot(&keys, 13 * DAY, Some(10 * DAY), GAP), Ok(0));
        assert_eq!(next_slot(&keys, 13 * DAY, None, GAP), Ok(0));
        // …and slot 1 (stopped on day 12) only after slot 0's turn.
        let keys = slots([14 * DAY, 10 * DAY, 12 * DAY]);
        assert_eq!(next_slot(&keys, 15 * DAY, None, GAP), Ok(1));
    }

    #[test]
    fn a_key_that_only_just_stopped_signing_is_not_replaced() {
        let keys = slots([0, 10 * DAY, 10 * DAY + 1]);
        // Slots 0 and 1 stopped moments ago: caches may still hold them.
        assert_eq!(
            next_slot(&keys, 10 * DAY + 2, None, GAP),
            Err(NotNow::MailStillQueued)
        );
        assert_eq!(next_slot(&keys, 10 * DAY + GAP, None, GAP), Ok(0));
    }
}
