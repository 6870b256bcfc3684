//! Diagnosis trackers kept between requests and across restarts (issue 8):
//! an initiative's indicators are maintained as its events arrive, so a
//! diagnosis costs folding the events not yet folded plus a summary, never
//! a replay of the whole chain.
//!
//! Two levels, both caches of the event log and never authoritative:
//!
//! - **In memory**, one [`Tracker`] per initiative (capped by
//!   `SAANJH_KEPT_TRACKERS`, default 2,000; beyond it an arbitrary one is
//!   dropped), with the chain position it has folded up to: the sequence
//!   number and hash of the last event.
//! - **In the database** (`diagnosis_snapshots`), the same tracker as text
//!   with that position and the arrangement version. A process that has no
//!   tracker for an initiative (after a restart, or an eviction) reads the
//!   snapshot instead of the chain and folds only the events after it.
//!
//! Why the tracker's state and not the computed indicators: the indicators
//! depend on the clock (an open obligation grows later by the hour; a
//! breached one keeps counting), on anchors given per request and on facts
//! outside the log (positions filled, the reserve's books). A snapshot of
//! computed values would expire within the hour for every initiative with
//! an overdue obligation and would differ per request; the fold depends on
//! the events and the arrangement only, so it stays right until the chain
//! moves on, whatever the time, and a deadline passing changes the summary
//! exactly as it changes a fresh fold's. There is therefore no
//! `valid_until`: a snapshot is good as long as its position is on the
//! chain.
//!
//! Verification: a snapshot (or kept tracker) at the head is served only if
//! its hash is the head's; one behind the head only if the first event
//! after it names its hash as predecessor. Anything else (another database
//! behind the same process, a restored backup, a chain that is shorter) is
//! not the history it folded: it is dropped and the chain folded from the
//! start. A snapshot of another format or arrangement version is refolded
//! too. Events are append-only, so a chain that still links is the same
//! history plus new events.
//!
//! When snapshots are written: after a fold that moved a tracker on (on
//! read, not on append: appends stay as fast as before, and a snapshot a
//! few events behind costs folding those few), by one background writer
//! that batches them into one transaction, so neither the request nor the
//! append waits for the write. [`Trackers::flush`] waits until everything
//! queued is written (for tests, benchmarks and `saanjh rebuild`).
//!
//! Folding many initiatives at once ([`fold_many`]: comparisons, QCA, the
//! refill after `saanjh rebuild`) reads their heads and snapshots a batch at
//! a time, the events of the chains to refold in one query per batch, and
//! parses, folds and summarises on every core.
//!
//! Beside each snapshot the writer keeps the fold's digest
//! (`saanjh_core::diagnosis::Digest`: what a diagnosis needs of it, a few
//! kilobytes instead of tens). [`fold_many`] reads the digests first and
//! diagnoses from one when it was taken at the chain's very head (same
//! hash, format and arrangement version); the clock- and context-dependent
//! indicators are recomputed from it at read time, so it is never stale
//! for the reason the module's first section gives. Only where there is no
//! such digest is the fold itself read back.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use saanjh_core::arrangement::Arrangement;
use saanjh_core::diagnosis::conditions::Anchors;
use saanjh_core::diagnosis::{
    Context, DiagEvent, Diagnosis, Digest, SNAPSHOT_FORMAT, Tracker, diagnose, diagnose_digest,
};
use saanjh_core::event::{GENESIS, StoredEvent};
use saanjh_store::{DiagnosisSnapshot, Store};
use tokio::sync::{mpsc, oneshot};

use crate::{ApiError, AppState};

/// One initiative's tracker and the chain position it has folded up to.
pub struct Kept {
    /// The arrangement version it was folded under.
    arrangement: (String, u32),
    seq: i64,
    hash: String,
    /// The position of the snapshot known to be in the database (0: none).
    persisted: i64,
    pub tracker: Tracker,
}

impl Kept {
    fn fresh(arrangement: (String, u32)) -> Kept {
        Kept {
            arrangement,
            seq: 0,
            hash: GENESIS.to_string(),
            persisted: 0,
            tracker: Tracker::new(),
        }
    }

    /// Events folded so far.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// The row to keep: the fold, and its digest under `arr` when one can
    /// be taken (a digest that cannot be written is left out, never
    /// guessed: diagnoses then read the fold).
    fn snapshot(&self, initiative: &str, arr: &Arrangement) -> Result<DiagnosisSnapshot, String> {
        let digest = match self.tracker.digest(arr).map(|d| d.to_text()) {
            Some(Ok(text)) => Some(text),
            Some(Err(e)) => {
                eprintln!("diagnosis digest of {initiative} not kept: {e}");
                None
            }
            None => None,
        };
        Ok(DiagnosisSnapshot {
            digest,
            initiative_id: initiative.to_string(),
            arrangement_id: self.arrangement.0.clone(),
            arrangement_version: self.arrangement.1 as i64,
            format: SNAPSHOT_FORMAT,
            seq: self.seq,
            hash: self.hash.clone(),
            state: self.tracker.to_snapshot()?,
        })
    }
}

type Slot = Arc<tokio::sync::Mutex<Kept>>;

/// Counters of what the trackers did, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct TrackerStats {
    /// Snapshots read from the database and used.
    pub snapshots_used: AtomicU64,
    /// Snapshots found not to match their chain (dropped, refolded).
    pub snapshots_rejected: AtomicU64,
    /// Events read from the log and folded.
    pub events_folded: AtomicU64,
    /// Snapshots written.
    pub snapshots_written: AtomicU64,
    /// Digests read and diagnosed from, without the fold.
    pub digests_used: AtomicU64,
}

impl TrackerStats {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
    fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

enum Write {
    /// A kept tracker moved on: serialise it (and take its digest under the
    /// arrangement) when its turn comes.
    Slot(String, Slot, Arc<Arrangement>),
    /// A fold made outside the kept trackers (bulk), already serialised.
    Row(DiagnosisSnapshot),
    Flush(oneshot::Sender<()>),
}

/// The kept trackers of this process.
pub struct Trackers {
    slots: Mutex<HashMap<String, Slot>>,
    cap: usize,
    writer: OnceLock<mpsc::UnboundedSender<Write>>,
    pub stats: Arc<TrackerStats>,
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
            writer: OnceLock::new(),
            stats: Arc::default(),
        }
    }

    /// How many trackers are kept in memory now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn kept(&self, initiative: &str) -> Option<Slot> {
        self.lock().get(initiative).cloned()
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

    /// The background writer, started on first use (it needs a runtime).
    fn writer(&self, store: &Store) -> &mpsc::UnboundedSender<Write> {
        self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_snapshots(store.clone(), rx, self.stats.clone()));
            tx
        })
    }

    fn queue(&self, store: &Store, w: Write) {
        // The receiver lives as long as the runtime; a send that fails
        // means the process is shutting down and the cache is not needed.
        let _ = self.writer(store).send(w);
    }

    /// Waits until every snapshot queued so far is written.
    pub async fn flush(&self, store: &Store) {
        let (tx, rx) = oneshot::channel();
        self.queue(store, Write::Flush(tx));
        let _ = rx.await;
    }
}

/// The writer: takes what is queued, keeps the furthest fold of each
/// initiative, and writes them in one transaction per batch.
async fn write_snapshots(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Write>,
    stats: Arc<TrackerStats>,
) {
    const BATCH: usize = 256;
    while let Some(first) = rx.recv().await {
        let mut queued = vec![first];
        while queued.len() < BATCH
            && let Ok(w) = rx.try_recv()
        {
            queued.push(w);
        }
        let mut rows: BTreeMap<String, DiagnosisSnapshot> = BTreeMap::new();
        let mut slots: Vec<(Slot, i64)> = vec![];
        let mut waiting = vec![];
        for w in queued {
            let row = match w {
                Write::Flush(done) => {
                    waiting.push(done);
                    continue;
                }
                Write::Row(row) => row,
                Write::Slot(initiative, slot, arr) => {
                    let kept = slot.lock().await;
                    if kept.seq <= kept.persisted {
                        continue;
                    }
                    match kept.snapshot(&initiative, &arr) {
                        Ok(row) => {
                            slots.push((slot.clone(), row.seq));
                            row
                        }
                        Err(e) => {
                            eprintln!("diagnosis snapshot of {initiative} not kept: {e}");
                            continue;
                        }
                    }
                }
            };
            match rows.get(&row.initiative_id) {
                Some(had) if had.seq > row.seq => {}
                _ => {
                    rows.insert(row.initiative_id.clone(), row);
                }
            }
        }
        let rows: Vec<DiagnosisSnapshot> = rows.into_values().collect();
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        match store.put_diagnosis_snapshots(&rows, &at).await {
            Ok(n) => {
                TrackerStats::add(&stats.snapshots_written, n);
                for (slot, seq) in slots {
                    let mut kept = slot.lock().await;
                    kept.persisted = kept.persisted.max(seq);
                }
            }
            // A cache that is not written costs a refold later, nothing else.
            Err(e) => eprintln!("diagnosis snapshots not kept: {e}"),
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// A snapshot that may stand for the chain whose head is (`head`,
/// `head_hash`), read back; `Err` when it is of another format or
/// arrangement, does not read, or cannot be the chain's history.
fn usable(
    snap: &DiagnosisSnapshot,
    key: &(String, u32),
    head: i64,
    head_hash: &str,
) -> Result<Tracker, ()> {
    let same_fold = snap.format == SNAPSHOT_FORMAT
        && snap.arrangement_id == key.0
        && snap.arrangement_version == key.1 as i64;
    let on_chain = snap.seq < head || (snap.seq == head && snap.hash == head_hash);
    if !same_fold || !on_chain || snap.seq <= 0 {
        return Err(());
    }
    Tracker::from_snapshot(&snap.state).map_err(|_| ())
}

fn parse(e: StoredEvent) -> Result<DiagEvent, ApiError> {
    let body = e.body().map_err(|err| {
        ApiError::internal(format!("event {}#{} does not parse: {err}", e.chain, e.seq))
    })?;
    Ok(DiagEvent {
        seq: e.seq,
        at: e.at,
        actor: e.actor,
        body,
    })
}

/// The initiative's tracker brought up to its chain's head, locked for the
/// caller (who summarises it). Concurrent requests for one initiative take
/// turns; requests for different initiatives do not wait for each other.
pub async fn up_to_date(
    state: &AppState,
    initiative: &str,
    arr: &Arc<Arrangement>,
    ctx: &Context,
) -> Result<tokio::sync::OwnedMutexGuard<Kept>, ApiError> {
    let key = (arr.id().to_string(), arr.version());
    let slot = state.trackers.slot(initiative, &key);
    let mut kept = slot.clone().lock_owned().await;
    let stats = &state.trackers.stats;
    let (head, head_hash) = state.store.head(initiative).await?;
    // A chain shorter than what was folded, or as long but ending
    // elsewhere, is not the one this tracker saw.
    if kept.arrangement != key || head < kept.seq || (head == kept.seq && head_hash != kept.hash) {
        *kept = Kept::fresh(key.clone());
    }
    // Counted as used once it is known to link to the chain.
    let mut from_snapshot = false;
    if kept.seq == 0
        && head > 0
        && let Some(snap) = state.store.diagnosis_snapshot(initiative).await?
    {
        match usable(&snap, &key, head, &head_hash) {
            Ok(tracker) => {
                from_snapshot = true;
                kept.tracker = tracker;
                kept.seq = snap.seq;
                kept.hash = snap.hash;
                kept.persisted = snap.seq;
            }
            Err(()) => {
                TrackerStats::add(&stats.snapshots_rejected, 1);
                state.store.drop_diagnosis_snapshot(initiative).await?;
            }
        }
    }
    if head == kept.seq {
        if from_snapshot {
            TrackerStats::add(&stats.snapshots_used, 1);
        }
        return Ok(kept);
    }
    const PAGE: i64 = 5_000;
    loop {
        let events = state.store.chain_events(initiative, kept.seq, PAGE).await?;
        let n = events.len();
        if let Some(first) = events.first()
            && first.prev_hash != kept.hash
        {
            if kept.seq == 0 {
                return Err(ApiError::internal(format!(
                    "the chain of {initiative} does not start at the genesis hash: run `saanjh verify`"
                )));
            }
            // Not the chain this tracker (or its snapshot) folded: start
            // again, and forget the snapshot so it is not tried again.
            if kept.persisted > 0 {
                TrackerStats::add(&stats.snapshots_rejected, 1);
                state.store.drop_diagnosis_snapshot(initiative).await?;
            }
            *kept = Kept::fresh(key.clone());
            from_snapshot = false;
            continue;
        }
        TrackerStats::add(&stats.events_folded, n as u64);
        for e in events {
            let (seq, hash) = (e.seq, e.hash.clone());
            kept.tracker.apply(arr, ctx, &parse(e)?);
            kept.seq = seq;
            kept.hash = hash;
        }
        if (n as i64) < PAGE {
            break;
        }
    }
    if from_snapshot {
        TrackerStats::add(&stats.snapshots_used, 1);
    }
    if kept.seq > kept.persisted {
        state.trackers.queue(
            &state.store,
            Write::Slot(initiative.to_string(), slot, arr.clone()),
        );
    }
    Ok(kept)
}

/// One initiative to fold in bulk, with what its fold needs.
pub struct Job {
    pub initiative: String,
    pub arrangement: Arc<Arrangement>,
    pub ctx: Context,
}

impl Job {
    fn key(&self) -> (String, u32) {
        (
            self.arrangement.id().to_string(),
            self.arrangement.version(),
        )
    }
}

/// What a bulk job is summarised from: a whole tracker, or the digest of
/// one kept at the chain's head (which diagnoses the same).
pub enum View<'a> {
    Tracker(&'a Tracker),
    Digest(Digest),
}

impl View<'_> {
    /// The diagnosis at `now` (`saanjh_core::diagnosis::diagnose`, or its
    /// twin on a digest).
    pub fn diagnose(
        self,
        job: &Job,
        now: time::OffsetDateTime,
        overrides: &BTreeMap<String, Anchors>,
        calibrate: &dyn Fn(f64, &Anchors) -> Result<f64, String>,
    ) -> Result<Diagnosis, String> {
        match self {
            View::Tracker(t) => diagnose(&job.arrangement, &job.ctx, t, now, overrides, calibrate),
            View::Digest(d) => {
                diagnose_digest(&job.arrangement, &job.ctx, d, now, overrides, calibrate)
            }
        }
    }

    pub fn schemes(&self) -> usize {
        match self {
            View::Tracker(t) => t.schemes().count(),
            View::Digest(d) => d.schemes(),
        }
    }

    pub fn households(&self) -> usize {
        match self {
            View::Tracker(t) => t.schemes().map(|s| s.household_ids.len()).sum(),
            View::Digest(d) => d.households(),
        }
    }
}

/// Where a bulk job's tracker comes from.
enum Source {
    /// Kept in memory, brought up to date and locked.
    Kept(tokio::sync::OwnedMutexGuard<Kept>),
    /// The digest kept at the chain's head (its text).
    Digest(String),
    /// A snapshot, and the events after it (none if it is at the head).
    Snapshot(DiagnosisSnapshot, Vec<StoredEvent>),
    /// The whole chain.
    Chain(Vec<StoredEvent>),
}

/// What the parallel part produced for one job.
enum Folded<T> {
    Done(T, Option<DiagnosisSnapshot>),
    /// The snapshot's tail did not link: fold it the careful way.
    Again,
}

/// Folds (or reads back) many initiatives' trackers and summarises each
/// with `summarise`, in `jobs`' order. Trackers already kept in memory are
/// used and kept; the others are read from their snapshot (plus the events
/// after it) or refolded from their chain in bulk, summarised and then
/// let go (their snapshots written), so memory stays bounded whatever the
/// number of initiatives.
pub async fn fold_many<T, F>(
    state: &AppState,
    jobs: Vec<Job>,
    summarise: F,
) -> Result<Vec<T>, ApiError>
where
    T: Send + 'static,
    F: Fn(&Job, View<'_>) -> Result<T, ApiError> + Send + Sync + 'static,
{
    // Initiatives per batch: their snapshots, or their whole chains for a
    // refold, are in memory at once (a few tens of megabytes at 500 events).
    const BATCH: usize = 128;
    let summarise = Arc::new(summarise);
    let mut out = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let batch: Vec<Job> = jobs.by_ref().take(BATCH).collect();
        let sources = sources(state, &batch).await?;
        let stats = state.trackers.stats.clone();
        let f = summarise.clone();
        let (batch, folded) = tokio::task::spawn_blocking(move || {
            let folded = fold_batch(&batch, sources, &*f, &stats);
            (batch, folded)
        })
        .await
        .map_err(|e| ApiError::internal(format!("diagnosis fold failed: {e}")))?;
        for (job, r) in batch.iter().zip(folded) {
            match r? {
                Folded::Done(t, snapshot) => {
                    if let Some(row) = snapshot {
                        state.trackers.queue(&state.store, Write::Row(row));
                    }
                    out.push(t);
                }
                Folded::Again => {
                    let kept =
                        up_to_date(state, &job.initiative, &job.arrangement, &job.ctx).await?;
                    out.push(summarise(job, View::Tracker(&kept.tracker))?);
                }
            }
        }
    }
    Ok(out)
}

/// Reads what a batch of jobs needs: kept trackers (in the order of their
/// ids, so two bulk folds never hold each other's locks), heads, snapshots
/// and the events to fold, the chains to refold in one query.
async fn sources(state: &AppState, batch: &[Job]) -> Result<Vec<Source>, ApiError> {
    let mut kept: BTreeMap<usize, Source> = BTreeMap::new();
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by(|a, b| batch[*a].initiative.cmp(&batch[*b].initiative));
    for i in order {
        let job = &batch[i];
        if state.trackers.kept(&job.initiative).is_some() {
            let guard = up_to_date(state, &job.initiative, &job.arrangement, &job.ctx).await?;
            kept.insert(i, Source::Kept(guard));
        }
    }
    let ids: Vec<String> = batch
        .iter()
        .enumerate()
        .filter(|(i, _)| !kept.contains_key(i))
        .map(|(_, j)| j.initiative.clone())
        .collect();
    let heads = state.store.heads_of(&ids).await?;
    let head_of = |job: &Job| {
        heads
            .get(&job.initiative)
            .cloned()
            .unwrap_or((0, GENESIS.to_string()))
    };
    // A digest is used only at the very head it was taken at (and under
    // the same format and arrangement version): a chain that moved on
    // needs the fold to continue, so its snapshot is read below.
    let mut digests = state.store.diagnosis_digests(&ids).await?;
    let mut at_head: BTreeMap<usize, String> = BTreeMap::new();
    for (i, job) in batch.iter().enumerate() {
        if kept.contains_key(&i) {
            continue;
        }
        let (head, head_hash) = head_of(job);
        if let Some(d) = digests.remove(&job.initiative)
            && d.format == SNAPSHOT_FORMAT
            && (d.arrangement_id.as_str(), d.arrangement_version)
                == (job.key().0.as_str(), job.key().1 as i64)
            && d.seq > 0
            && d.seq == head
            && d.hash == head_hash
        {
            at_head.insert(i, d.digest);
        }
    }
    let rest: Vec<String> = batch
        .iter()
        .enumerate()
        .filter(|(i, _)| !kept.contains_key(i) && !at_head.contains_key(i))
        .map(|(_, j)| j.initiative.clone())
        .collect();
    let mut snaps = state.store.diagnosis_snapshots(&rest).await?;
    let mut refold = vec![];
    let mut out: Vec<Option<Source>> = Vec::with_capacity(batch.len());
    let stats = &state.trackers.stats;
    for (i, job) in batch.iter().enumerate() {
        if let Some(k) = kept.remove(&i) {
            out.push(Some(k));
            continue;
        }
        if let Some(d) = at_head.remove(&i) {
            out.push(Some(Source::Digest(d)));
            continue;
        }
        let (head, head_hash) = head_of(job);
        let snap = snaps.remove(&job.initiative);
        let fits = snap.as_ref().is_some_and(|s| {
            s.format == SNAPSHOT_FORMAT
                && (s.arrangement_id.as_str(), s.arrangement_version)
                    == (job.key().0.as_str(), job.key().1 as i64)
                && (s.seq < head || (s.seq == head && s.hash == head_hash))
                && s.seq > 0
        });
        match snap {
            Some(s) if fits => {
                let tail = if s.seq < head {
                    state
                        .store
                        .chain_events(&job.initiative, s.seq, i64::MAX)
                        .await?
                } else {
                    vec![]
                };
                out.push(Some(Source::Snapshot(s, tail)));
            }
            other => {
                if other.is_some() {
                    TrackerStats::add(&stats.snapshots_rejected, 1);
                    state.store.drop_diagnosis_snapshot(&job.initiative).await?;
                }
                refold.push(i);
                out.push(None);
            }
        }
    }
    let chains: Vec<String> = refold
        .iter()
        .map(|&i| batch[i].initiative.clone())
        .collect();
    let mut by_chain: HashMap<String, Vec<StoredEvent>> = HashMap::new();
    for e in state.store.events_of_chains(&chains).await? {
        by_chain.entry(e.chain.clone()).or_default().push(e);
    }
    for i in refold {
        let events = by_chain.remove(&batch[i].initiative).unwrap_or_default();
        out[i] = Some(Source::Chain(events));
    }
    Ok(out
        .into_iter()
        .map(|s| s.unwrap_or(Source::Chain(vec![])))
        .collect())
}

/// Folds and summarises a batch on every core.
fn fold_batch<T: Send>(
    batch: &[Job],
    sources: Vec<Source>,
    summarise: &(dyn Fn(&Job, View<'_>) -> Result<T, ApiError> + Sync),
    stats: &TrackerStats,
) -> Vec<Result<Folded<T>, ApiError>> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 8);
    let work: Vec<Mutex<Option<Source>>> =
        sources.into_iter().map(|s| Mutex::new(Some(s))).collect();
    type Outcome<T> = Mutex<Option<Result<Folded<T>, ApiError>>>;
    let results: Vec<Outcome<T>> = batch.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(batch.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= batch.len() {
                        break;
                    }
                    let source = work[i].lock().unwrap_or_else(|p| p.into_inner()).take();
                    let r = source
                        .ok_or_else(|| ApiError::internal("diagnosis fold lost its input"))
                        .and_then(|s| fold_one(&batch[i], s, summarise, stats));
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err(ApiError::internal("diagnosis fold gave nothing")))
        })
        .collect()
}

fn fold_one<T>(
    job: &Job,
    source: Source,
    summarise: &(dyn Fn(&Job, View<'_>) -> Result<T, ApiError> + Sync),
    stats: &TrackerStats,
) -> Result<Folded<T>, ApiError> {
    let key = job.key();
    let (arr, ctx) = (&*job.arrangement, &job.ctx);
    let (mut tracker, mut seq, mut hash, events) = match source {
        Source::Kept(guard) => {
            return Ok(Folded::Done(
                summarise(job, View::Tracker(&guard.tracker))?,
                None,
            ));
        }
        Source::Digest(text) => {
            // A digest that does not read: the careful way, through the
            // snapshot (or the chain).
            let Ok(d) = Digest::from_text(&text) else {
                return Ok(Folded::Again);
            };
            TrackerStats::add(&stats.digests_used, 1);
            return Ok(Folded::Done(summarise(job, View::Digest(d))?, None));
        }
        Source::Snapshot(s, tail) => {
            let Ok(t) = Tracker::from_snapshot(&s.state) else {
                return Ok(Folded::Again);
            };
            if tail.is_empty() {
                TrackerStats::add(&stats.snapshots_used, 1);
                return Ok(Folded::Done(summarise(job, View::Tracker(&t))?, None));
            }
            (t, s.seq, s.hash, tail)
        }
        Source::Chain(events) => (Tracker::new(), 0, GENESIS.to_string(), events),
    };
    let resumed = seq > 0;
    TrackerStats::add(&stats.events_folded, events.len() as u64);
    for e in events {
        if e.seq != seq + 1 || e.prev_hash != hash {
            return Ok(Folded::Again);
        }
        seq = e.seq;
        hash = e.hash.clone();
        tracker.apply(arr, ctx, &parse(e)?);
    }
    if resumed {
        TrackerStats::add(&stats.snapshots_used, 1);
    }
    let kept = Kept {
        arrangement: key,
        seq,
        hash,
        persisted: 0,
        tracker,
    };
    let snapshot = if seq > 0 {
        kept.snapshot(&job.initiative, arr).ok()
    } else {
        None
    };
    Ok(Folded::Done(
        summarise(job, View::Tracker(&kept.tracker))?,
        snapshot,
    ))
}

/// Refolds every initiative's chain from the log and keeps the folds as
/// snapshots (what `saanjh rebuild` runs after emptying them). Returns the
/// initiatives folded.
pub async fn refold_all(state: &AppState) -> Result<usize, ApiError> {
    let mut ids = vec![];
    let mut offset = 0;
    loop {
        let rows = state.store.initiatives(None, 1_000, offset).await?;
        let n = rows.len();
        ids.extend(rows.into_iter().map(|r| r.id));
        if n < 1_000 {
            break;
        }
        offset += 1_000;
    }
    let none = BTreeMap::new();
    for part in ids.chunks(1_000) {
        crate::diagnosis_api::measure_many(state, part, &none).await?;
    }
    state.trackers.flush(&state.store).await;
    Ok(ids.len())
}
