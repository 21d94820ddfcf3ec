//! Dunning: chasing an unpaid invoice. Around its due date the customer is reminded at
//! configured day offsets; once the due date has passed the invoice is past due; after
//! [`DunningPolicy::suspend_after_days`] more days the account is suspended until it pays.
//! This module decides, from how far an invoice has got and the time, what is due now and
//! when the invoice next needs attention. No I/O: the store records each step, the flow
//! runs them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Reminders three days before the due date, on it, and three and seven days after.
pub const DEFAULT_REMINDER_OFFSETS_DAYS: [i64; 4] = [-3, 0, 3, 7];
/// Days past the due date after which an unpaid invoice suspends the account.
pub const DEFAULT_SUSPEND_AFTER_DAYS: i64 = 14;
/// Reminder offsets are kept within these days of the due date.
pub const OFFSET_RANGE: std::ops::RangeInclusive<i64> = -90..=365;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a reminder offset of {0} days is outside -90..=365")]
    Offset(i64),
    #[error("suspending {0} days after the due date is outside 1..=365")]
    Suspension(i64),
}

/// When reminders go out and when an unpaid invoice suspends the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunningPolicy {
    /// Days relative to the due date, ascending, without repeats.
    offsets: Vec<i64>,
    suspend_after_days: i64,
}

impl Default for DunningPolicy {
    fn default() -> Self {
        Self { offsets: DEFAULT_REMINDER_OFFSETS_DAYS.to_vec(), suspend_after_days: DEFAULT_SUSPEND_AFTER_DAYS }
    }
}

impl DunningPolicy {
    pub fn new(offsets: impl IntoIterator<Item = i64>, suspend_after_days: i64) -> Result<Self, PolicyError> {
        let mut offsets: Vec<i64> = offsets.into_iter().collect();
        if let Some(bad) = offsets.iter().find(|o| !OFFSET_RANGE.contains(o)) {
            return Err(PolicyError::Offset(*bad));
        }
        if !(1..=365).contains(&suspend_after_days) {
            return Err(PolicyError::Suspension(suspend_after_days));
        }
        offsets.sort_unstable();
        offsets.dedup();
        Ok(Self { offsets, suspend_after_days })
    }

    pub fn offsets(&self) -> &[i64] {
        &self.offsets
    }

    pub fn suspend_after_days(&self) -> i64 {
        self.suspend_after_days
    }

    pub fn reminder_at(&self, due: DateTime<Utc>, offset_days: i64) -> DateTime<Utc> {
        due + Duration::days(offset_days)
    }

    pub fn suspend_at(&self, due: DateTime<Utc>) -> DateTime<Utc> {
        due + Duration::days(self.suspend_after_days)
    }
}

/// What became of one reminder offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderOutcome {
    Sent,
    /// Its time passed together with a later offset's (no run in between): only the later
    /// reminder went out, since "due in three days" is wrong once the invoice is overdue.
    Skipped,
}

/// How far dunning has got with one invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub reminders: BTreeMap<i64, ReminderOutcome>,
    pub past_due: bool,
    /// The suspension step is over: the invoice suspended the account, or found it
    /// suspended on its account.
    pub suspension_settled: bool,
}

/// What one run should do for an invoice now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    pub mark_past_due: bool,
    /// The reminder to send: the latest offset whose time has come and that was not handled.
    pub remind: Option<i64>,
    /// Earlier offsets that came due with it, recorded as skipped.
    pub skip: Vec<i64>,
    /// The suspension time has passed and the step is not settled.
    pub check_suspension: bool,
}

impl Steps {
    pub fn is_empty(&self) -> bool {
        !self.mark_past_due && self.remind.is_none() && !self.check_suspension
    }
}

/// The steps due at `now` for an invoice due at `due` that has got as far as `progress`.
pub fn steps_due(policy: &DunningPolicy, due: DateTime<Utc>, progress: &Progress, now: DateTime<Utc>) -> Steps {
    let pending: Vec<i64> = policy
        .offsets
        .iter()
        .copied()
        .filter(|o| !progress.reminders.contains_key(o) && policy.reminder_at(due, *o) <= now)
        .collect();
    let remind = pending.last().copied();
    let skip = pending[..pending.len().saturating_sub(1)].to_vec();
    Steps {
        mark_past_due: !progress.past_due && now > due,
        remind,
        skip,
        check_suspension: !progress.suspension_settled && now >= policy.suspend_at(due),
    }
}

/// When the invoice next needs attention: the earliest of its unhandled reminders, being
/// marked past due and the suspension step; `None` once nothing is left (it leaves the
/// dunning list). A step whose time has passed keeps the invoice due, so the next run
/// tries it again.
pub fn next_attention(policy: &DunningPolicy, due: DateTime<Utc>, progress: &Progress) -> Option<DateTime<Utc>> {
    let reminders =
        policy.offsets.iter().filter(|o| !progress.reminders.contains_key(o)).map(|o| policy.reminder_at(due, *o));
    // Past due means after the due instant, so the first second after it.
    let past_due = (!progress.past_due).then(|| due + Duration::seconds(1));
    let suspension = (!progress.suspension_settled).then(|| policy.suspend_at(due));
    reminders.chain(past_due).chain(suspension).min()
}

/// What the suspension step does, given the account's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspensionCheck {
    /// The account is active: suspend it for this invoice.
    Suspend,
    /// It is already suspended for this invoice: the step is over.
    Settled,
    /// It is suspended for something else (an operator, another invoice): look again next
    /// run, so this invoice still suspends it if that suspension is lifted while it is unpaid.
    LookAgain,
}

pub fn suspension_check(suspended: bool, held_by: Option<&str>, invoice_id: &str) -> SuspensionCheck {
    match (suspended, held_by) {
        (false, _) => SuspensionCheck::Suspend,
        (true, Some(holder)) if holder == invoice_id => SuspensionCheck::Settled,
        (true, _) => SuspensionCheck::LookAgain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 30, 0).unwrap()
    }

    fn day(n: i64) -> DateTime<Utc> {
        due() + Duration::days(n) + Duration::hours(1)
    }

    /// Applies the steps as the store would, so the timeline can be walked.
    fn apply(progress: &mut Progress, steps: &Steps) {
        progress.past_due |= steps.mark_past_due;
        if let Some(o) = steps.remind {
            progress.reminders.insert(o, ReminderOutcome::Sent);
        }
        for o in &steps.skip {
            progress.reminders.insert(*o, ReminderOutcome::Skipped);
        }
        progress.suspension_settled |= steps.check_suspension;
    }

    #[test]
    fn a_daily_run_sends_each_reminder_on_its_day_marks_past_due_after_the_due_date_and_then_suspends() {
        let policy = DunningPolicy::default();
        let mut progress = Progress::default();
        let mut seen = Vec::new();
        for n in -7..=20 {
            let steps = steps_due(&policy, due(), &progress, day(n));
            assert!(steps.skip.is_empty(), "day {n}: nothing is skipped when the job runs daily");
            if !steps.is_empty() {
                seen.push((n, steps.clone()));
            }
            apply(&mut progress, &steps);
        }
        let reminders: Vec<(i64, i64)> = seen.iter().filter_map(|(n, s)| s.remind.map(|o| (*n, o))).collect();
        assert_eq!(reminders, vec![(-3, -3), (0, 0), (3, 3), (7, 7)]);
        let past_due: Vec<i64> = seen.iter().filter(|(_, s)| s.mark_past_due).map(|(n, _)| *n).collect();
        assert_eq!(past_due, vec![0], "the run an hour after the due instant");
        let suspension: Vec<i64> = seen.iter().filter(|(_, s)| s.check_suspension).map(|(n, _)| *n).collect();
        assert_eq!(suspension, vec![14]);
        assert_eq!(next_attention(&policy, due(), &progress), None, "nothing left: it leaves the list");
    }

    #[test]
    fn reminders_that_came_due_together_send_only_the_latest_and_skip_the_rest() {
        let policy = DunningPolicy::default();
        let progress = Progress::default();
        let steps = steps_due(&policy, due(), &progress, day(4));
        assert_eq!((steps.remind, steps.skip.clone()), (Some(3), vec![-3, 0]));
        assert!(steps.mark_past_due && !steps.check_suspension);
    }

    #[test]
    fn the_next_attention_is_the_earliest_unhandled_step_and_an_unsettled_suspension_stays_due() {
        let policy = DunningPolicy::default();
        let mut progress = Progress::default();
        assert_eq!(next_attention(&policy, due(), &progress), Some(due() - Duration::days(3)));
        progress.reminders.insert(-3, ReminderOutcome::Sent);
        progress.reminders.insert(0, ReminderOutcome::Sent);
        assert_eq!(next_attention(&policy, due(), &progress), Some(due() + Duration::seconds(1)));
        progress.past_due = true;
        assert_eq!(next_attention(&policy, due(), &progress), Some(due() + Duration::days(3)));
        progress.reminders.insert(3, ReminderOutcome::Sent);
        progress.reminders.insert(7, ReminderOutcome::Skipped);
        assert_eq!(next_attention(&policy, due(), &progress), Some(due() + Duration::days(14)));
        // Looked at after its time but not settled: still due, whatever the clock says.
        assert!(steps_due(&policy, due(), &progress, day(30)).check_suspension);
    }

    #[test]
    fn the_suspension_step_suspends_an_active_account_and_never_takes_over_another_suspension() {
        assert_eq!(suspension_check(false, None, "inv_1"), SuspensionCheck::Suspend);
        assert_eq!(suspension_check(true, Some("inv_1"), "inv_1"), SuspensionCheck::Settled);
        assert_eq!(suspension_check(true, Some("in_other"), "inv_1"), SuspensionCheck::LookAgain);
        assert_eq!(suspension_check(true, None, "inv_1"), SuspensionCheck::LookAgain, "an operator's suspension");
    }

    #[test]
    fn policies_sort_and_deduplicate_offsets_and_refuse_nonsense() {
        let policy = DunningPolicy::new([7, -3, 0, 7], 10).unwrap();
        assert_eq!((policy.offsets(), policy.suspend_after_days()), (&[-3, 0, 7][..], 10));
        assert_eq!(DunningPolicy::new([-100], 14), Err(PolicyError::Offset(-100)));
        assert_eq!(DunningPolicy::new([0], 0), Err(PolicyError::Suspension(0)));
        let none = DunningPolicy::new([], 14).unwrap();
        assert_eq!(steps_due(&none, due(), &Progress::default(), day(1)).remind, None);
    }
}
