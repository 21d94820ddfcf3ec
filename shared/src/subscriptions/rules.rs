//! Which Stripe subscription event wins, and what a subscription's status means for service.
//!
//! Stripe's `created` has one-second resolution and Checkout sends `customer.subscription.created`
//! (`incomplete`) and `.updated` (`active`) in the same second, often newest first. So events
//! are ordered by (`created`, lifecycle rank of the status): within one second `incomplete`
//! loses, terminal states win, and anything else is decided by arrival.

/// Lifecycle stage of a Stripe subscription status: `incomplete` only ever comes first,
/// `canceled` and `incomplete_expired` are terminal; every other status is in between.
pub fn lifecycle_rank(status: &str) -> i64 {
    match status {
        "incomplete" => 0,
        "canceled" | "incomplete_expired" => 2,
        _ => 1,
    }
}

/// Whether no later event can bring the subscription back.
pub fn is_terminal(status: &str) -> bool {
    lifecycle_rank(status) == 2
}

/// The order of a subscription event: compare two events by this number; the larger is newer.
/// Equal numbers are the same moment and stage, so either may apply (a redelivery rewrites the
/// same state).
pub fn event_rank(created: i64, status: &str) -> i64 {
    created.saturating_mul(4).saturating_add(lifecycle_rank(status))
}

/// Whether an event of rank `incoming` may replace state written with rank `stored`.
pub fn applies_over(incoming: i64, stored: Option<i64>) -> bool {
    stored.is_none_or(|stored| incoming >= stored)
}

/// Whether the customer gets the subscribed tier's service. `past_due` keeps it while Stripe
/// retries (dunning suspends separately); `paused`, `unpaid`, `incomplete` and ended ones do not.
pub fn grants_service(status: &str) -> bool {
    matches!(status, "active" | "trialing" | "past_due")
}

/// Whether the subscription still exists for billing purposes (serving, paused or unpaid):
/// a second one alongside it would bill twice.
pub fn is_open(status: &str) -> bool {
    lifecycle_rank(status) == 1
}

/// Which plan the organization is on, from its subscription and its lifetime purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan<'a> {
    /// The subscribed tier.
    Subscribed(&'a str),
    Lifetime,
    Free,
}

/// The subscription as far as the plan goes: its tier, status and when it was taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed<'a> {
    pub tier: &'a str,
    pub status: &'a str,
    pub subscribed_at: i64,
}

/// A serving subscription's tier applies unless lifetime was bought after it was taken out
/// (that subscription then only runs out its paid period); without one, lifetime if bought
/// (and not refunded), else free. So lifetime, not free, is what an ended subscription falls
/// back to.
pub fn plan<'a>(subscription: Option<Subscribed<'a>>, lifetime_since: Option<i64>) -> Plan<'a> {
    match subscription {
        Some(s) if grants_service(s.status) && lifetime_since.is_none_or(|l| s.subscribed_at > l) => {
            Plan::Subscribed(s.tier)
        }
        _ if lifetime_since.is_some() => Plan::Lifetime,
        _ => Plan::Free,
    }
}

/// What the organization's current subscription is, as far as choosing a successor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<'a> {
    pub subscription_id: &'a str,
    pub status: &'a str,
    /// The subscription object's own `created` (when the customer subscribed).
    pub subscribed_at: i64,
}

/// An event about a subscription that is not the organization's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other<'a> {
    pub status: &'a str,
    pub subscribed_at: i64,
}

/// Whether an event for another subscription makes that subscription the current one. Only
/// a subscription taken out later than the current one can replace it: while the current one
/// still serves, only once the newer one is live itself (not `incomplete`, not ended); once
/// the current one has ended, in any state. So an old, replaced subscription's events (its
/// `deleted` above all) never move the tier, and a checkout that was never paid never
/// replaces a paying subscription.
pub fn replaces(current: Option<&Current<'_>>, other: &Other<'_>) -> bool {
    let Some(current) = current else { return true };
    if other.subscribed_at <= current.subscribed_at {
        return false;
    }
    is_terminal(current.status) || (lifecycle_rank(other.status) == 1)
}

/// Why the plan changed, as the history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeCause {
    Checkout,
    Upgrade,
    Downgrade,
    Cancellation,
    PaymentFailure,
    LifetimePurchase,
    LifetimeRefund,
    /// Changed in Stripe itself (customer portal, dashboard).
    Stripe,
    Admin,
}

/// What a customer asked of their subscription through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    CancelAtPeriodEnd,
    CancelNow,
    Reactivate,
    Upgrade,
    Downgrade,
}

/// A customer's request as far as explaining a later plan change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked<'a> {
    pub request: Request,
    pub tier: Option<&'a str>,
}

/// Why a subscription's new state moved the plan to `to`: the customer's request when the
/// state is what they asked for (`true`: the request is fulfilled), otherwise read from the
/// status. `from_subscribed` says whether the plan left was a subscription's.
pub fn cause_of(status: &str, from_subscribed: bool, to: &str, asked: Option<Asked<'_>>) -> (ChangeCause, bool) {
    if let Some(asked) = asked {
        match asked.request {
            Request::Upgrade if asked.tier == Some(to) => return (ChangeCause::Upgrade, true),
            Request::Downgrade if asked.tier == Some(to) => return (ChangeCause::Downgrade, true),
            Request::CancelAtPeriodEnd | Request::CancelNow if is_terminal(status) => {
                return (ChangeCause::Cancellation, true);
            }
            _ => {}
        }
    }
    let cause = if is_terminal(status) {
        ChangeCause::Cancellation
    } else if !grants_service(status) {
        ChangeCause::PaymentFailure
    } else if !from_subscribed {
        ChangeCause::Checkout
    } else {
        ChangeCause::Stripe
    };
    (cause, false)
}

/// Which way a plan change goes, by monthly price: an upgrade applies now (prorated), a
/// downgrade at the end of the period already paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

pub fn direction(from_monthly: rust_decimal::Decimal, to_monthly: rust_decimal::Decimal) -> Direction {
    if to_monthly >= from_monthly { Direction::Upgrade } else { Direction::Downgrade }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_the_same_second_incomplete_loses_and_terminal_states_win() {
        let t = 1_700_000_000;
        assert!(event_rank(t, "active") > event_rank(t, "incomplete"));
        assert!(event_rank(t, "canceled") > event_rank(t, "active"));
        assert!(event_rank(t, "incomplete_expired") > event_rank(t, "incomplete"));
        assert_eq!(event_rank(t, "past_due"), event_rank(t, "active"));
    }

    #[test]
    fn a_later_second_wins_whatever_the_status() {
        let t = 1_700_000_000;
        assert!(event_rank(t + 1, "incomplete") > event_rank(t, "canceled"));
        assert!(event_rank(t + 1, "active") > event_rank(t, "canceled"));
    }

    #[test]
    fn an_event_applies_over_older_or_equal_state_only() {
        let t = 1_700_000_000;
        assert!(applies_over(event_rank(t, "incomplete"), None));
        assert!(applies_over(event_rank(t, "active"), Some(event_rank(t, "active"))), "a redelivery applies");
        assert!(!applies_over(event_rank(t, "incomplete"), Some(event_rank(t, "active"))));
        assert!(!applies_over(event_rank(t, "active"), Some(event_rank(t, "canceled"))));
        assert!(!applies_over(event_rank(t - 1, "canceled"), Some(event_rank(t, "incomplete"))));
    }

    #[test]
    fn every_ordering_of_a_checkouts_events_ends_in_the_newest_state() {
        // created (incomplete), updated (active), deleted (canceled), all in one second or spread.
        for spread in [0, 1] {
            let t = 1_700_000_000;
            let events = [("incomplete", t), ("active", t + spread), ("canceled", t + 2 * spread)];
            let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
            for order in orders {
                for take in 2..=3 {
                    let chosen: Vec<_> = order.iter().take(take).map(|&i| events[i]).collect();
                    let mut stored: Option<(i64, &str)> = None;
                    for (status, created) in chosen.iter().chain(chosen.iter()) {
                        let rank = event_rank(*created, status);
                        if applies_over(rank, stored.map(|s| s.0)) {
                            stored = Some((rank, status));
                        }
                    }
                    let newest = chosen.iter().max_by_key(|(s, c)| event_rank(*c, s)).unwrap().0;
                    assert_eq!(stored.unwrap().1, newest, "spread {spread}, order {chosen:?}");
                }
            }
        }
    }

    #[test]
    fn paused_unpaid_and_unfinished_subscriptions_grant_no_paid_service() {
        for status in ["paused", "unpaid", "incomplete", "incomplete_expired", "canceled"] {
            assert!(!grants_service(status), "{status}");
        }
        for status in ["active", "trialing", "past_due"] {
            assert!(grants_service(status), "{status}");
        }
    }

    #[test]
    fn lifetime_outranks_an_earlier_subscription_and_is_what_an_ended_one_falls_back_to() {
        let pro = |status, subscribed_at| Some(Subscribed { tier: "pro", status, subscribed_at });
        assert_eq!(plan(pro("active", 100), None), Plan::Subscribed("pro"));
        assert_eq!(plan(pro("paused", 100), None), Plan::Free);
        assert_eq!(plan(pro("active", 100), Some(200)), Plan::Lifetime, "bought lifetime while subscribed");
        assert_eq!(plan(pro("active", 300), Some(200)), Plan::Subscribed("pro"), "subscribed after lifetime");
        assert_eq!(plan(pro("canceled", 300), Some(200)), Plan::Lifetime);
        assert_eq!(plan(None, Some(200)), Plan::Lifetime);
        assert_eq!(plan(None, None), Plan::Free);
    }

    #[test]
    fn only_a_later_subscription_replaces_the_current_one() {
        let active = Current { subscription_id: "sub_old", status: "active", subscribed_at: 100 };
        let canceled = Current { status: "canceled", ..active.clone() };
        // The old subscription's events never take over from a newer one.
        assert!(!replaces(Some(&active), &Other { status: "canceled", subscribed_at: 50 }));
        assert!(!replaces(Some(&canceled), &Other { status: "active", subscribed_at: 50 }));
        // A newer checkout replaces a serving subscription once it is live.
        assert!(!replaces(Some(&active), &Other { status: "incomplete", subscribed_at: 200 }));
        assert!(!replaces(Some(&active), &Other { status: "incomplete_expired", subscribed_at: 200 }));
        assert!(replaces(Some(&active), &Other { status: "active", subscribed_at: 200 }));
        // After the current one ended, a newer one replaces it in any state.
        assert!(replaces(Some(&canceled), &Other { status: "incomplete", subscribed_at: 200 }));
        assert!(replaces(None, &Other { status: "canceled", subscribed_at: 1 }));
    }
    #[test]
    fn a_change_is_explained_by_the_request_it_fulfils_or_else_by_the_status() {
        let asked = |request, tier| Some(Asked { request, tier });
        assert_eq!(
            cause_of("active", true, "team", asked(Request::Upgrade, Some("team"))),
            (ChangeCause::Upgrade, true)
        );
        assert_eq!(
            cause_of("active", true, "starter", asked(Request::Downgrade, Some("starter"))),
            (ChangeCause::Downgrade, true)
        );
        assert_eq!(
            cause_of("canceled", true, "free", asked(Request::CancelAtPeriodEnd, None)),
            (ChangeCause::Cancellation, true)
        );
        // A request for something else does not explain the change.
        assert_eq!(
            cause_of("active", true, "pro", asked(Request::Upgrade, Some("team"))),
            (ChangeCause::Stripe, false)
        );
        assert_eq!(cause_of("canceled", true, "free", None), (ChangeCause::Cancellation, false));
        assert_eq!(cause_of("paused", true, "free", None), (ChangeCause::PaymentFailure, false));
        assert_eq!(cause_of("unpaid", true, "free", None), (ChangeCause::PaymentFailure, false));
        assert_eq!(cause_of("active", false, "pro", None), (ChangeCause::Checkout, false));
    }

    #[test]
    fn a_cheaper_plan_is_a_downgrade_and_an_equal_or_dearer_one_an_upgrade() {
        use rust_decimal::Decimal;
        assert_eq!(direction(Decimal::from(79), Decimal::from(199)), Direction::Upgrade);
        assert_eq!(direction(Decimal::from(79), Decimal::from(29)), Direction::Downgrade);
        assert_eq!(direction(Decimal::from(79), Decimal::from(79)), Direction::Upgrade);
    }
}
