//! Arguments shared by the tests of lists, dicts, sets, values and arrays and their worker entries.
//!
//! Also the seeded random operation sequences those tests replay: a tiny
//! xorshift generator ([`Rng`]), the operations ([`ListOp`], [`DictOp`]),
//! local models with Python's semantics ([`ListModel`], [`DictModel`]) and
//! the functions that apply an operation to a manager's object
//! ([`apply_list`], [`apply_dict`]). A worker and a test that build the
//! sequence from the same seed get the same operations, so the test can
//! replay what the worker did on its own model and compare.

use anyhow::{bail, ensure};
use manager::{Error, ManagerError, blocking};
use serde::{Deserialize, Serialize};

/// A small deterministic generator (xorshift64*): the same seed gives the
/// same numbers in every process.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (0 is replaced, xorshift needs a bit
    /// set).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `lo..hi` (`lo < hi`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }

    /// Picks an index into `weights`, each as likely as its weight.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut pick = self.below(weights.iter().sum());
        for (i, &w) in weights.iter().enumerate() {
            if pick < w {
                return i;
            }
            pick -= w;
        }
        unreachable!("pick is below the sum of the weights")
    }
}

/// Arguments of the `list_random_ops` and `dict_random_ops` worker entries:
/// apply the sequence of `count` operations seeded with `seed` to the
/// object `name`, checking each answer against a local model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomOps {
    /// The list or dict.
    pub name: String,
    /// The seed of the sequence.
    pub seed: u64,
    /// How many operations.
    pub count: usize,
}

/// Arguments of the `list_append` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListAppend {
    /// The list.
    pub list: String,
    /// The worker's index: it appends `index * 100_000 + k`.
    pub index: i64,
    /// How many items it appends, alternating single appends and extends.
    pub count: i64,
    /// An event to wait for before the first append, if any.
    pub start: Option<String>,
    /// An event to wait for before appending the second half, if any.
    pub resume: Option<String>,
}

impl ListAppend {
    /// The items this worker appends, in order.
    pub fn items(&self) -> impl Iterator<Item = i64> + use<> {
        let base = self.index * 100_000;
        (0..self.count).map(move |k| base + k)
    }
}

/// Arguments of the `set_add_range` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAddRange {
    /// The set of `i64`s.
    pub set: String,
    /// The items to add, one request each.
    pub items: std::ops::Range<i64>,
    /// A value of `i64` the worker adds its count of newly added items to.
    pub added: String,
}

/// Arguments of the `value_add` and `value_cas_increment` worker entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValueAdd {
    /// The value of `i64`.
    pub value: String,
    /// How many increments of 1.
    pub times: u32,
}

/// Arguments of the `array_write_block` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArrayBlock {
    /// The array of `i64`s.
    pub array: String,
    /// The first index written.
    pub start: i64,
    /// What is written, one `set_range` per round.
    pub values: Vec<i64>,
    /// How many rounds: each round writes `values` plus the round number.
    pub rounds: i64,
}

/// Why an operation failed, as a model and the manager both say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `ManagerError::IndexOutOfRange`.
    IndexOutOfRange {
        /// The index asked for.
        index: i64,
        /// The length.
        len: usize,
    },
    /// `ManagerError::Empty`.
    Empty,
    /// `ManagerError::NotFound`.
    NotFound,
    /// `ManagerError::NoSuchKey`.
    NoSuchKey,
}

/// What one operation answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied, nothing returned.
    Done,
    /// One number.
    Int(i64),
    /// A length, index or count.
    Size(usize),
    /// A yes or no.
    Bool(bool),
    /// A value or nothing.
    Maybe(Option<i64>),
    /// Several numbers.
    Ints(Vec<i64>),
    /// Several keys.
    Keys(Vec<String>),
    /// One entry.
    Entry(String, i64),
    /// Several entries.
    Entries(Vec<(String, i64)>),
    /// A typed error.
    Failed(Failure),
}

/// Turns a call's result into an [`Outcome`]: the typed errors the
/// operations may give become [`Outcome::Failed`] (after checking that
/// they name `what`); any other error is returned.
fn outcome<T>(
    result: Result<T, Error>,
    what: &str,
    ok: impl FnOnce(T) -> Outcome,
) -> anyhow::Result<Outcome> {
    let err = match result {
        Ok(value) => return Ok(ok(value)),
        Err(Error::Manager(err)) => err,
        Err(err) => return Err(err.into()),
    };
    let (named, failure) = match &err {
        ManagerError::IndexOutOfRange {
            what: named,
            index,
            len,
        } => (
            named,
            Failure::IndexOutOfRange {
                index: *index,
                len: *len as usize,
            },
        ),
        ManagerError::Empty { what: named } => (named, Failure::Empty),
        ManagerError::NotFound { what: named } => (named, Failure::NotFound),
        ManagerError::NoSuchKey { what: named } => (named, Failure::NoSuchKey),
        _ => bail!("unexpected error: {err}"),
    };
    ensure!(named == what, "the error names {named}, not {what}: {err}");
    Ok(Outcome::Failed(failure))
}

/// One list operation of a random sequence, on a list of `i64`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListOp {
    /// `len(l)`.
    Len,
    /// `l[i]`.
    Get(i64),
    /// `l[i] = x`.
    Set(i64, i64),
    /// `l.append(x)`.
    Append(i64),
    /// `l.extend(xs)`.
    Extend(Vec<i64>),
    /// `l.insert(i, x)`.
    Insert(i64, i64),
    /// `l.pop()`.
    Pop,
    /// `l.pop(i)`.
    PopIndex(i64),
    /// `l.remove(x)`.
    Remove(i64),
    /// `l.index(x)`.
    Index(i64),
    /// `l.count(x)`.
    Count(i64),
    /// `x in l`.
    Contains(i64),
    /// `l[a:b]`.
    Slice(Option<i64>, Option<i64>),
    /// `l.reverse()`.
    Reverse,
    /// `l.sort()`.
    Sort,
    /// `l.clear()`.
    Clear,
    /// `list(l)`.
    Snapshot,
}

/// The `count` list operations seeded with `seed`. They do not depend on
/// the list's state, so out-of-range indices and absent values come up
/// naturally.
pub fn list_ops(seed: u64, count: usize) -> Vec<ListOp> {
    let mut rng = Rng::new(seed);
    let weights = [3, 10, 8, 15, 8, 8, 6, 6, 6, 5, 4, 4, 8, 2, 2, 1, 2];
    (0..count)
        .map(|_| {
            let index = |rng: &mut Rng| rng.range(-25, 25);
            let value = |rng: &mut Rng| rng.range(0, 30);
            let bound = |rng: &mut Rng| (rng.below(4) != 0).then(|| rng.range(-30, 30));
            match rng.weighted(&weights) {
                0 => ListOp::Len,
                1 => ListOp::Get(index(&mut rng)),
                2 => ListOp::Set(index(&mut rng), value(&mut rng)),
                3 => ListOp::Append(value(&mut rng)),
                4 => {
                    let n = rng.below(6);
                    ListOp::Extend((0..n).map(|_| value(&mut rng)).collect())
                }
                5 => ListOp::Insert(index(&mut rng), value(&mut rng)),
                6 => ListOp::Pop,
                7 => ListOp::PopIndex(index(&mut rng)),
                8 => ListOp::Remove(value(&mut rng)),
                9 => ListOp::Index(value(&mut rng)),
                10 => ListOp::Count(value(&mut rng)),
                11 => ListOp::Contains(value(&mut rng)),
                12 => ListOp::Slice(bound(&mut rng), bound(&mut rng)),
                13 => ListOp::Reverse,
                14 => ListOp::Sort,
                15 => ListOp::Clear,
                _ => ListOp::Snapshot,
            }
        })
        .collect()
}

/// A local list with Python's semantics, written out here independently of
/// the manager's code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListModel(pub Vec<i64>);

impl ListModel {
    /// Python's `l[i]` position, or the failure.
    fn position(&self, index: i64) -> Result<usize, Failure> {
        let len = self.0.len() as i64;
        let i = if index < 0 { index + len } else { index };
        if 0 <= i && i < len {
            Ok(i as usize)
        } else {
            Err(Failure::IndexOutOfRange {
                index,
                len: self.0.len(),
            })
        }
    }

    /// Python's clamping of a slice bound.
    fn bound(&self, bound: i64) -> usize {
        let len = self.0.len() as i64;
        (if bound < 0 { bound + len } else { bound }).clamp(0, len) as usize
    }

    /// Applies `op` as Python would and says what it answered.
    pub fn apply(&mut self, op: &ListOp) -> Outcome {
        match self.try_apply(op) {
            Ok(outcome) => outcome,
            Err(failure) => Outcome::Failed(failure),
        }
    }

    fn try_apply(&mut self, op: &ListOp) -> Result<Outcome, Failure> {
        let items = &mut self.0;
        Ok(match op {
            ListOp::Len => Outcome::Size(items.len()),
            ListOp::Get(i) => Outcome::Int(self.0[self.position(*i)?]),
            ListOp::Set(i, x) => {
                let p = self.position(*i)?;
                self.0[p] = *x;
                Outcome::Done
            }
            ListOp::Append(x) => {
                items.push(*x);
                Outcome::Done
            }
            ListOp::Extend(xs) => {
                items.extend(xs);
                Outcome::Done
            }
            ListOp::Insert(i, x) => {
                let p = self.bound(*i);
                self.0.insert(p, *x);
                Outcome::Done
            }
            ListOp::Pop => Outcome::Int(items.pop().ok_or(Failure::Empty)?),
            ListOp::PopIndex(i) => {
                if items.is_empty() {
                    return Err(Failure::Empty);
                }
                let p = self.position(*i)?;
                Outcome::Int(self.0.remove(p))
            }
            ListOp::Remove(x) => {
                let p = items.iter().position(|y| y == x).ok_or(Failure::NotFound)?;
                items.remove(p);
                Outcome::Done
            }
            ListOp::Index(x) => {
                Outcome::Size(items.iter().position(|y| y == x).ok_or(Failure::NotFound)?)
            }
            ListOp::Count(x) => Outcome::Size(items.iter().filter(|y| *y == x).count()),
            ListOp::Contains(x) => Outcome::Bool(items.contains(x)),
            ListOp::Slice(a, b) => {
                let start = a.map_or(0, |a| self.bound(a));
                let stop = b.map_or(self.0.len(), |b| self.bound(b));
                Outcome::Ints(if start < stop {
                    self.0[start..stop].to_vec()
                } else {
                    Vec::new()
                })
            }
            ListOp::Reverse => {
                items.reverse();
                Outcome::Done
            }
            ListOp::Sort => {
                items.sort();
                Outcome::Done
            }
            ListOp::Clear => {
                items.clear();
                Outcome::Done
            }
            ListOp::Snapshot => Outcome::Ints(items.clone()),
        })
    }
}

/// Applies `op` to a manager's list and says what it answered.
///
/// # Errors
///
/// Any error other than the typed failures an operation may give, and a
/// typed failure that does not name the list.
pub fn apply_list(list: &blocking::List<i64>, op: &ListOp) -> anyhow::Result<Outcome> {
    let what = format!("list `{}`", list.name());
    let done = |()| Outcome::Done;
    match op {
        ListOp::Len => outcome(list.len(), &what, Outcome::Size),
        ListOp::Get(i) => outcome(list.get(*i), &what, Outcome::Int),
        ListOp::Set(i, x) => outcome(list.set(*i, x), &what, done),
        ListOp::Append(x) => outcome(list.append(x), &what, done),
        ListOp::Extend(xs) => outcome(list.extend(xs), &what, done),
        ListOp::Insert(i, x) => outcome(list.insert(*i, x), &what, done),
        ListOp::Pop => outcome(list.pop(), &what, Outcome::Int),
        ListOp::PopIndex(i) => outcome(list.pop_index(*i), &what, Outcome::Int),
        ListOp::Remove(x) => outcome(list.remove(x), &what, done),
        ListOp::Index(x) => outcome(list.index(x), &what, Outcome::Size),
        ListOp::Count(x) => outcome(list.count(x), &what, Outcome::Size),
        ListOp::Contains(x) => outcome(list.contains(x), &what, Outcome::Bool),
        ListOp::Slice(a, b) => outcome(list.slice(*a, *b), &what, Outcome::Ints),
        ListOp::Reverse => outcome(list.reverse(), &what, done),
        ListOp::Sort => outcome(list.sort(), &what, done),
        ListOp::Clear => outcome(list.clear(), &what, done),
        ListOp::Snapshot => outcome(list.snapshot(), &what, Outcome::Ints),
    }
}

/// One dict operation of a random sequence, on a dict from `String`s to
/// `i64`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DictOp {
    /// `len(d)`.
    Len,
    /// `d.get(k)`.
    Get(String),
    /// `d[k] = v`, returning the old value.
    Insert(String, i64),
    /// `d.pop(k, None)`.
    Remove(String),
    /// `k in d`.
    ContainsKey(String),
    /// `d.update(pairs)`.
    Update(Vec<(String, i64)>),
    /// `d.setdefault(k, v)`.
    SetDefault(String, i64),
    /// `d.pop(k)`.
    Pop(String),
    /// `d.pop(k, v)`.
    PopOr(String, i64),
    /// `d.popitem()`.
    PopItem,
    /// `d[k] = d.get(k, 0) + delta`, atomically.
    Add(String, i64),
    /// `list(d.keys())`.
    Keys,
    /// `list(d.values())`.
    Values,
    /// `list(d.items())`.
    Items,
    /// `d.clear()`.
    Clear,
}

/// The `count` dict operations seeded with `seed`, on 15 possible keys.
pub fn dict_ops(seed: u64, count: usize) -> Vec<DictOp> {
    let mut rng = Rng::new(seed);
    let weights = [3, 10, 15, 6, 6, 5, 6, 6, 5, 3, 8, 3, 3, 3, 1];
    (0..count)
        .map(|_| {
            let key = |rng: &mut Rng| format!("k{}", rng.below(15));
            let value = |rng: &mut Rng| rng.range(-50, 50);
            match rng.weighted(&weights) {
                0 => DictOp::Len,
                1 => DictOp::Get(key(&mut rng)),
                2 => DictOp::Insert(key(&mut rng), value(&mut rng)),
                3 => DictOp::Remove(key(&mut rng)),
                4 => DictOp::ContainsKey(key(&mut rng)),
                5 => {
                    let n = rng.below(5);
                    DictOp::Update((0..n).map(|_| (key(&mut rng), value(&mut rng))).collect())
                }
                6 => DictOp::SetDefault(key(&mut rng), value(&mut rng)),
                7 => DictOp::Pop(key(&mut rng)),
                8 => DictOp::PopOr(key(&mut rng), value(&mut rng)),
                9 => DictOp::PopItem,
                10 => DictOp::Add(key(&mut rng), rng.range(-10, 10)),
                11 => DictOp::Keys,
                12 => DictOp::Values,
                13 => DictOp::Items,
                _ => DictOp::Clear,
            }
        })
        .collect()
}

/// A local dict in insertion order with Python's semantics: a vector of
/// entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DictModel(pub Vec<(String, i64)>);

impl DictModel {
    fn find(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| k == key)
    }

    fn insert(&mut self, key: &str, value: i64) -> Option<i64> {
        match self.find(key) {
            Some(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            None => {
                self.0.push((key.to_owned(), value));
                None
            }
        }
    }

    fn remove(&mut self, key: &str) -> Option<i64> {
        self.find(key).map(|i| self.0.remove(i).1)
    }

    /// Applies `op` as Python would and says what it answered.
    pub fn apply(&mut self, op: &DictOp) -> Outcome {
        match op {
            DictOp::Len => Outcome::Size(self.0.len()),
            DictOp::Get(k) => Outcome::Maybe(self.find(k).map(|i| self.0[i].1)),
            DictOp::Insert(k, v) => Outcome::Maybe(self.insert(k, *v)),
            DictOp::Remove(k) => Outcome::Maybe(self.remove(k)),
            DictOp::ContainsKey(k) => Outcome::Bool(self.find(k).is_some()),
            DictOp::Update(pairs) => {
                for (k, v) in pairs {
                    self.insert(k, *v);
                }
                Outcome::Done
            }
            DictOp::SetDefault(k, v) => match self.find(k) {
                Some(i) => Outcome::Int(self.0[i].1),
                None => {
                    self.0.push((k.clone(), *v));
                    Outcome::Int(*v)
                }
            },
            DictOp::Pop(k) => match self.remove(k) {
                Some(v) => Outcome::Int(v),
                None => Outcome::Failed(Failure::NoSuchKey),
            },
            DictOp::PopOr(k, d) => Outcome::Int(self.remove(k).unwrap_or(*d)),
            DictOp::PopItem => match self.0.pop() {
                Some((k, v)) => Outcome::Entry(k, v),
                None => Outcome::Failed(Failure::Empty),
            },
            DictOp::Add(k, delta) => {
                let sum = self.find(k).map_or(0, |i| self.0[i].1) + delta;
                self.insert(k, sum);
                Outcome::Int(sum)
            }
            DictOp::Keys => Outcome::Keys(self.0.iter().map(|(k, _)| k.clone()).collect()),
            DictOp::Values => Outcome::Ints(self.0.iter().map(|(_, v)| *v).collect()),
            DictOp::Items => Outcome::Entries(self.0.clone()),
            DictOp::Clear => {
                self.0.clear();
                Outcome::Done
            }
        }
    }
}

/// Applies `op` to a manager's dict and says what it answered.
///
/// # Errors
///
/// As [`apply_list`].
pub fn apply_dict(dict: &blocking::Dict<String, i64>, op: &DictOp) -> anyhow::Result<Outcome> {
    let what = format!("dict `{}`", dict.name());
    match op {
        DictOp::Len => outcome(dict.len(), &what, Outcome::Size),
        DictOp::Get(k) => outcome(dict.get(k), &what, Outcome::Maybe),
        DictOp::Insert(k, v) => outcome(dict.insert(k, v), &what, Outcome::Maybe),
        DictOp::Remove(k) => outcome(dict.remove(k), &what, Outcome::Maybe),
        DictOp::ContainsKey(k) => outcome(dict.contains_key(k), &what, Outcome::Bool),
        DictOp::Update(pairs) => outcome(
            dict.update(pairs.iter().map(|(k, v)| (k, v))),
            &what,
            |()| Outcome::Done,
        ),
        DictOp::SetDefault(k, v) => outcome(dict.setdefault(k, v), &what, Outcome::Int),
        DictOp::Pop(k) => outcome(dict.pop(k), &what, Outcome::Int),
        DictOp::PopOr(k, d) => outcome(dict.pop_or(k, d), &what, Outcome::Int),
        DictOp::PopItem => outcome(dict.popitem(), &what, |(k, v)| Outcome::Entry(k, v)),
        DictOp::Add(k, delta) => outcome(dict.add(k, *delta), &what, Outcome::Int),
        DictOp::Keys => outcome(dict.keys(), &what, Outcome::Keys),
        DictOp::Values => outcome(dict.values(), &what, Outcome::Ints),
        DictOp::Items => outcome(dict.items(), &what, Outcome::Entries),
        DictOp::Clear => outcome(dict.clear(), &what, |()| Outcome::Done),
    }
}

/// Applies `ops` to a manager's list and to `model` side by side, failing
/// at the first answer that differs.
///
/// # Errors
///
/// The first difference, with the operation's number, or any unexpected
/// error.
pub fn check_list_ops(
    list: &blocking::List<i64>,
    model: &mut ListModel,
    ops: &[ListOp],
) -> anyhow::Result<()> {
    for (n, op) in ops.iter().enumerate() {
        let expected = model.apply(op);
        let got = apply_list(list, op)?;
        ensure!(
            got == expected,
            "operation {n} ({op:?}): the manager answered {got:?}, the model {expected:?}"
        );
    }
    Ok(())
}

/// Applies `ops` to a manager's dict and to `model` side by side, failing
/// at the first answer that differs.
///
/// # Errors
///
/// As [`check_list_ops`].
pub fn check_dict_ops(
    dict: &blocking::Dict<String, i64>,
    model: &mut DictModel,
    ops: &[DictOp],
) -> anyhow::Result<()> {
    for (n, op) in ops.iter().enumerate() {
        let expected = model.apply(op);
        let got = apply_dict(dict, op)?;
        ensure!(
            got == expected,
            "operation {n} ({op:?}): the manager answered {got:?}, the model {expected:?}"
        );
    }
    Ok(())
}

/// Lengths of the large values the `large_values_*` entries and tests move:
/// around the 64 KiB at which the manager stops copying a value (its
/// encoding is the length in 3 or 5 bytes, then the bytes), and up to
/// nearly a whole 16 MiB frame.
pub const LARGE_LENGTHS: [usize; 6] = [65_532, 65_533, 65_534, 300_000, 1 << 20, (16 << 20) - 4096];

/// The large value number `index` of `len` bytes: seeded random bytes, so
/// that a value mixed up with another, cut short or shifted is noticed.
pub fn large_value(index: usize, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(0xB16 + index as u64);
    let mut value = Vec::with_capacity(len + 8);
    while value.len() < len {
        value.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    value.truncate(len);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let a: Vec<u64> = {
            let mut rng = Rng::new(7);
            (0..5).map(|_| rng.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut rng = Rng::new(7);
            (0..5).map(|_| rng.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_eq!(list_ops(3, 50), list_ops(3, 50));
        assert_ne!(list_ops(3, 50), list_ops(4, 50));
        let mut rng = Rng::new(1);
        let mut seen = [0_u32; 10];
        for _ in 0..1000 {
            seen[rng.range(0, 10) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }

    #[test]
    fn the_sequences_the_tests_use_exercise_every_failure() {
        let mut list = ListModel::default();
        let outcomes: Vec<Outcome> = [1, 2, 3, 10]
            .into_iter()
            .flat_map(|seed| list_ops(seed, 300))
            .map(|op| list.apply(&op))
            .collect();
        let failed = |f: fn(&Failure) -> bool| {
            outcomes
                .iter()
                .filter(|o| matches!(o, Outcome::Failed(x) if f(x)))
                .count()
        };
        assert!(failed(|f| matches!(f, Failure::IndexOutOfRange { .. })) >= 10);
        assert!(failed(|f| matches!(f, Failure::Empty)) >= 2);
        assert!(failed(|f| matches!(f, Failure::NotFound)) >= 10);
        assert!(outcomes.iter().filter(|o| **o == Outcome::Done).count() >= 300);

        let mut dict = DictModel::default();
        let outcomes: Vec<Outcome> = [1, 2, 3, 20]
            .into_iter()
            .flat_map(|seed| dict_ops(seed, 300))
            .map(|op| dict.apply(&op))
            .collect();
        let count = |x: &Outcome| outcomes.iter().filter(|o| *o == x).count();
        assert!(count(&Outcome::Failed(Failure::NoSuchKey)) >= 10);
        assert!(count(&Outcome::Maybe(None)) >= 10);
        assert!(outcomes.iter().any(|o| matches!(o, Outcome::Entry(..))));
    }

    #[test]
    fn the_list_model_follows_python() {
        let mut model = ListModel(vec![0, 1, 2, 3, 4]);
        assert_eq!(model.apply(&ListOp::Get(-1)), Outcome::Int(4));
        assert_eq!(
            model.apply(&ListOp::Get(-6)),
            Outcome::Failed(Failure::IndexOutOfRange { index: -6, len: 5 })
        );
        assert_eq!(
            model.apply(&ListOp::Slice(Some(1), Some(-1))),
            Outcome::Ints(vec![1, 2, 3])
        );
        assert_eq!(
            model.apply(&ListOp::Slice(Some(-100), Some(2))),
            Outcome::Ints(vec![0, 1])
        );
        model.apply(&ListOp::Insert(-1, 9));
        assert_eq!(model.0, [0, 1, 2, 3, 9, 4]);
    }

    #[test]
    fn the_dict_model_keeps_insertion_order() {
        let mut model = DictModel::default();
        model.apply(&DictOp::Insert("a".into(), 1));
        model.apply(&DictOp::Insert("b".into(), 2));
        model.apply(&DictOp::Insert("a".into(), 3));
        assert_eq!(
            model.apply(&DictOp::Keys),
            Outcome::Keys(vec!["a".into(), "b".into()])
        );
        assert_eq!(model.apply(&DictOp::PopItem), Outcome::Entry("b".into(), 2));
    }
}
