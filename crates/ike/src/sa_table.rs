//! The engine's IKE SAs with an index of their next deadlines, so that
//! [`Engine::poll_timeout`](crate::Engine::poll_timeout) is O(log n) and
//! [`Engine::handle_timeout`](crate::Engine::handle_timeout) visits only the SAs that are due,
//! whatever the number of SAs (a responder holding 10k road warriors must not walk all of them
//! per datagram).
//!
//! The index can only go stale through a mutation, and every way to mutate an SA in the table
//! goes through it: [`SaTable::insert`] computes the deadline, [`SaTable::get_mut`] hands out a
//! guard that recomputes it when dropped, [`SaTable::for_each_mut`] recomputes after each call.
//! An SA taken out with [`SaTable::remove`] (the usual pattern: remove, work, insert) leaves the
//! index with it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::{Deref, DerefMut};
use std::time::Instant;

use crate::event::IkeSaId;
use crate::sa::{ChildState, IkeSa, IkeState};

/// IKE SAs by id, with their deadlines indexed.
#[derive(Default)]
pub(crate) struct SaTable {
    map: BTreeMap<IkeSaId, Box<IkeSa>>,
    due: BTreeSet<(Instant, IkeSaId)>,
    due_of: HashMap<IkeSaId, Instant>,
}

/// When `sa` next needs [`Engine::handle_timeout`](crate::Engine::handle_timeout): the earliest
/// of its retransmission, half-open, keepalive, rekey, expiry and liveness-check deadlines.
pub(crate) fn sa_deadline(sa: &IkeSa) -> Option<Instant> {
    let min = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut d = sa.outstanding.as_ref().map(|(_, o)| o.deadline);
    d = min(d, sa.half_open_deadline);
    d = min(d, sa.keepalive_deadline);
    if sa.state == IkeState::Established && sa.rekeyed_to.is_none() {
        d = min(d, sa.rekey_at);
        for c in sa
            .children
            .iter()
            .filter(|c| c.state == ChildState::Installed)
        {
            d = min(d, c.expire_at);
            if c.successor.is_none() {
                d = min(d, c.rekey_at);
            }
        }
    }
    min(d, dpd_due(sa))
}

/// When a liveness check is due (RFC 7296 §2.4): `dpd_delay` after the last message (or ESP)
/// from the peer, while nothing is outstanding.
pub(crate) fn dpd_due(sa: &IkeSa) -> Option<Instant> {
    let delay = sa.cfg.dpd_delay;
    if sa.state != IkeState::Established || delay.is_zero() || sa.outstanding.is_some() {
        return None;
    }
    Some(sa.last_received + delay)
}

fn reindex(
    due: &mut BTreeSet<(Instant, IkeSaId)>,
    due_of: &mut HashMap<IkeSaId, Instant>,
    id: IkeSaId,
    sa: Option<&IkeSa>,
) {
    if let Some(old) = due_of.remove(&id) {
        due.remove(&(old, id));
    }
    if let Some(t) = sa.and_then(sa_deadline) {
        due.insert((t, id));
        due_of.insert(id, t);
    }
}

impl SaTable {
    /// Puts `sa` (back) under `id` and indexes its deadline.
    pub(crate) fn insert(&mut self, id: IkeSaId, sa: Box<IkeSa>) {
        reindex(&mut self.due, &mut self.due_of, id, Some(&sa));
        self.map.insert(id, sa);
    }

    /// Takes the SA out (its deadline leaves the index until it is inserted again).
    pub(crate) fn remove(&mut self, id: &IkeSaId) -> Option<Box<IkeSa>> {
        reindex(&mut self.due, &mut self.due_of, *id, None);
        self.map.remove(id)
    }

    pub(crate) fn get(&self, id: &IkeSaId) -> Option<&IkeSa> {
        self.map.get(id).map(|b| &**b)
    }

    /// The SA for changing in place; its deadline is recomputed when the guard is dropped.
    pub(crate) fn get_mut(&mut self, id: &IkeSaId) -> Option<SaMut<'_>> {
        let sa = self.map.get_mut(id)?;
        Some(SaMut {
            sa,
            due: &mut self.due,
            due_of: &mut self.due_of,
        })
    }

    /// Calls `f` on every SA, re-indexing each afterwards.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut IkeSa)) {
        for (id, sa) in self.map.iter_mut() {
            f(sa);
            reindex(&mut self.due, &mut self.due_of, *id, Some(sa));
        }
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &IkeSa> {
        self.map.values().map(|b| &**b)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &IkeSaId> {
        self.map.keys()
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether every SA's indexed deadline is what [`sa_deadline`] computes now (tests).
    pub(crate) fn index_is_consistent(&self) -> bool {
        self.due.len() == self.due_of.len()
            && self.due_of.len() <= self.map.len()
            && self.map.iter().all(|(id, sa)| {
                let want = sa_deadline(sa);
                self.due_of.get(id).copied() == want
                    && want.is_none_or(|t| self.due.contains(&(t, *id)))
            })
    }

    /// The earliest deadline of any SA.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.due.first().map(|(t, _)| *t)
    }

    /// The SAs whose deadline is at or before `now`, earliest first.
    pub(crate) fn due_by(&self, now: Instant) -> Vec<IkeSaId> {
        self.due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect()
    }
}

/// A borrowed SA of the table; re-indexes its deadline on drop.
pub(crate) struct SaMut<'a> {
    sa: &'a mut Box<IkeSa>,
    due: &'a mut BTreeSet<(Instant, IkeSaId)>,
    due_of: &'a mut HashMap<IkeSaId, Instant>,
}

impl Deref for SaMut<'_> {
    type Target = IkeSa;
    fn deref(&self) -> &IkeSa {
        self.sa
    }
}

impl DerefMut for SaMut<'_> {
    fn deref_mut(&mut self) -> &mut IkeSa {
        self.sa
    }
}

impl Drop for SaMut<'_> {
    fn drop(&mut self) {
        let id = self.sa.id;
        reindex(self.due, self.due_of, id, Some(self.sa));
    }
}
