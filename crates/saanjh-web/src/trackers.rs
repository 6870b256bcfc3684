//! Kept diagnosis trackers (issue 8): one [`Tracker`] per initiative held in
//! memory between requests, so that a diagnosis after one new event costs
//! folding that event, not re-reading and re-folding the whole chain.
//!
//! A kept tracker remembers the chain position it has folded up to — the
//! sequence number and the hash of the last event. On the next request only
//! events after that sequence are read; the first of them must name that
//! hash as its predecessor, otherwise the chain is not the one the tracker
//! saw (another database behind the same process, a restored backup) and the
//! tracker is folded again from the start. Events are append-only, so a
//! chain that still links is the same history plus new events.
//!
//! Kept in memory per process, not persisted: a restart folds each chain
//! once on first use. The number kept is capped (`SAANJH_KEPT_TRACKERS`,
//! default 2,000); beyond it an arbitrary tracker is dropped and refolded
//! when next asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use saanjh_core::arrangement::Arrangement;
use saanjh_core::diagnosis::{Context, DiagEvent, Tracker};
use saanjh_core::event::GENESIS;

use crate::{ApiError, AppState};

/// One initiative's tracker and the chain position it has folded up to.
pub struct Kept {
    /// The arrangement version it was folded under.
    arrangement: (String, u32),
    seq: i64,
    hash: String,
    pub tracker: Tracker,
}

impl Kept {
    fn fresh(arrangement: (String, u32)) -> Kept {
        Kept {
            arrangement,
            seq: 0,
            hash: GENESIS.to_string(),
            tracker: Tracker::new(),
        }
    }

    /// Events folded so far.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

type Slot = Arc<tokio::sync::Mutex<Kept>>;

/// The kept trackers of this process.
pub struct Trackers {
    slots: Mutex<HashMap<String, Slot>>,
    cap: usize,
}

impl Default for Trackers {
    fn default() -> Self {
        let cap = std::env::var("SAANJH_KEPT_TRACKERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        Trackers::with_capacity(cap)
    }
}

impl Trackers {
    pub fn with_capacity(cap: usize) -> Trackers {
        Trackers {
            slots: Mutex::default(),
            cap,
        }
    }

    /// How many trackers are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self, initiative: &str, arrangement: &(String, u32)) -> Slot {
        let mut slots = self.lock();
        if let Some(s) = slots.get(initiative) {
            return s.clone();
        }
        if self.cap == 0 {
            return Arc::new(tokio::sync::Mutex::new(Kept::fresh(arrangement.clone())));
        }
        if slots.len() >= self.cap
            && let Some(victim) = slots.keys().next().cloned()
        {
            slots.remove(&victim);
        }
        let s = Arc::new(tokio::sync::Mutex::new(Kept::fresh(arrangement.clone())));
        slots.insert(initiative.to_string(), s.clone());
        s
    }
}

/// The initiative's tracker brought up to its chain's head, locked for the
/// caller (who summarises it). Concurrent requests for one initiative take
/// turns; requests for different initiatives do not wait for each other.
pub async fn up_to_date(
    state: &AppState,
    initiative: &str,
    arr: &Arrangement,
    ctx: &Context,
) -> Result<tokio::sync::OwnedMutexGuard<Kept>, ApiError> {
    let key = (arr.id().to_string(), arr.version());
    let slot = state.trackers.slot(initiative, &key);
    let mut kept = slot.lock_owned().await;
    let (head, head_hash) = state.store.head(initiative).await?;
    // A chain shorter than what was folded, or as long but ending
    // elsewhere, is not the one this tracker saw.
    if kept.arrangement != key || head < kept.seq || (head == kept.seq && head_hash != kept.hash) {
        *kept = Kept::fresh(key.clone());
    }
    if head == kept.seq {
        return Ok(kept);
    }
    const PAGE: i64 = 5_000;
    loop {
        let events = state.store.chain_events(initiative, kept.seq, PAGE).await?;
        let n = events.len();
        if let Some(first) = events.first()
            && first.prev_hash != kept.hash
        {
            // Not the chain this tracker folded: start again.
            *kept = Kept::fresh(key.clone());
            continue;
        }
        for e in events {
            let body = e.body().map_err(|err| {
                ApiError::internal(format!("event {}#{} does not parse: {err}", e.chain, e.seq))
            })?;
            kept.tracker.apply(
                arr,
                ctx,
                &DiagEvent {
                    seq: e.seq,
                    at: e.at,
                    actor: e.actor,
                    body,
                },
            );
            kept.seq = e.seq;
            kept.hash = e.hash;
        }
        if (n as i64) < PAGE {
            return Ok(kept);
        }
    }
}
