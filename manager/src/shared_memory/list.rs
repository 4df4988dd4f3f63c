//! [`ShareableList`]: Python's `ShareableList`, a fixed number of typed
//! items in fixed-size slots of a shared memory block.

use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use manager_core::{Encoded, ManagerError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Mapping;
use crate::Error;

/// The block's first word, once its layout is written.
const MAGIC: u64 = u64::from_le_bytes(*b"RMSLIST1");
/// Bytes before the first slot: magic, length, slot size, reserved.
const HEADER: usize = 64;
/// Bytes of a slot before its data: its sequence word, the length of what
/// it holds (0: empty) and padding.
const SLOT_HEADER: usize = 16;
/// How long a read or write waits for a slot another process is writing.
const BUSY_FOR: Duration = Duration::from_secs(1);

/// A fixed number of typed items, each in a slot of a fixed size, in a
/// shared memory block, like Python's `multiprocessing.shared_memory.ShareableList`.
///
/// An item is any serde value (as stored values are everywhere in the
/// manager): [`set`](ShareableList::set) encodes it with its type's name
/// into its slot, and [`get`](ShareableList::get) reads it back as the
/// type asked for, with the manager's rules for stored values: a `String`
/// read as an `i64` is [`ManagerError::WrongType`] naming both types;
/// integers read across widths when they fit, and `DoesNotFit` when they
/// do not. An empty slot reads as `None`.
///
/// Each slot is written and read whole: a slot carries a sequence number
/// (a seqlock), so a read never sees half of another process's write, and
/// two writers of one slot take turns. There is no lock over several
/// slots; take a manager `Lock` for that. A process killed in the middle
/// of writing a slot leaves it busy: reads of that slot then fail after a
/// second, saying so, until the slot is written again; a write waits a
/// second for a busy slot, then takes it over (the other slots are
/// unaffected). The item the killed writer was replacing is lost with
/// it. A writer stalled for over a second in the middle of its own write
/// (stopped by a debugger) loses the slot to the next writer and gets an
/// error.
///
/// Made by [`Client::shareable_list`](crate::Client::shareable_list).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = manager::Manager::start()?;
/// let client = manager.connect()?;
/// let list = client.shareable_list("row", 3, 32)?;
/// list.set(0, "ada")?;
/// list.set(1, &1815_i32)?;
/// assert_eq!(list.get::<String>(0)?, Some("ada".to_owned()));
/// assert_eq!(list.get::<i64>(1)?, Some(1815));
/// assert_eq!(list.get::<i64>(2)?, None);
/// // A read of another type is refused, naming both.
/// let err = list.get::<i64>(0).unwrap_err();
/// assert!(err.to_string().contains("holds a value of type `String`, not `i64`"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ShareableList {
    mapping: Mapping,
    len: usize,
    slot_size: usize,
}

impl ShareableList {
    /// The bytes a list of `len` slots of `slot_size` bytes takes.
    pub fn block_size(len: usize, slot_size: usize) -> Option<usize> {
        stride(slot_size)?.checked_mul(len)?.checked_add(HEADER)
    }

    /// The element type name a list's block records: its layout, so that
    /// a list of another layout (or an array) is refused.
    pub(crate) fn element(len: usize, slot_size: usize) -> String {
        format!("manager::ShareableList[{len}; {slot_size}]")
    }

    /// The list in `mapping`, which holds one of `len` slots of
    /// `slot_size` bytes (or zeros, and it is laid out now).
    pub(crate) fn open(mapping: Mapping, len: usize, slot_size: usize) -> Result<Self, Error> {
        let list = ShareableList {
            mapping,
            len,
            slot_size,
        };
        let words = list.mapping.region().atomic_u64s();
        if words[0].load(Ordering::Acquire) != MAGIC {
            // Every process that opens it writes the same layout (the
            // block's element type says it), so racing openers agree.
            words[1].store(len as u64, Ordering::Relaxed);
            words[2].store(slot_size as u64, Ordering::Relaxed);
            words[0].store(MAGIC, Ordering::Release);
        }
        list.check_layout()?;
        Ok(list)
    }

    /// The list a mapping holds, its layout read from the block.
    ///
    /// # Errors
    ///
    /// [`Error::View`] if the block holds no shareable list.
    pub fn from_mapping(mapping: Mapping) -> Result<Self, Error> {
        let words = mapping.region().atomic_u64s();
        let what = || format!("shared memory `{}`", mapping.name());
        if words.len() < HEADER / 8 || words[0].load(Ordering::Acquire) != MAGIC {
            return Err(Error::View {
                what: what(),
                reason: "it holds no shareable list".to_owned(),
            });
        }
        let len = usize::try_from(words[1].load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let slot_size = usize::try_from(words[2].load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let list = ShareableList {
            mapping,
            len,
            slot_size,
        };
        list.check_layout()?;
        Ok(list)
    }

    fn check_layout(&self) -> Result<(), Error> {
        let words = self.mapping.region().atomic_u64s();
        let fits = Self::block_size(self.len, self.slot_size)
            .is_some_and(|size| size <= self.mapping.len());
        let agrees = words[1].load(Ordering::Relaxed) == self.len as u64
            && words[2].load(Ordering::Relaxed) == self.slot_size as u64;
        if fits && agrees {
            Ok(())
        } else {
            Err(Error::View {
                what: self.what(),
                reason: format!(
                    "its layout ({} slots of {} bytes) does not fit its {} bytes",
                    self.len,
                    self.slot_size,
                    self.mapping.len()
                ),
            })
        }
    }

    /// How many slots it has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no slots.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most bytes an item's encoding (with its type's name) may take.
    pub fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// Writes `value` into slot `index`, replacing what it held.
    ///
    /// # Errors
    ///
    /// `IndexOutOfRange` past the end, [`Error::View`] if the value's
    /// encoding does not fit a slot or the slot stays busy (see the type's
    /// docs), [`Error::EncodeValue`] if it cannot be encoded.
    pub fn set<T: Serialize + ?Sized>(&self, index: usize, value: &T) -> Result<(), Error> {
        let encoded = Encoded::encode(value).map_err(Error::EncodeValue)?;
        let bytes = manager_core::codec::encode(&encoded).map_err(Error::EncodeValue)?;
        if bytes.len() > self.slot_size {
            return Err(Error::View {
                what: self.what(),
                reason: format!(
                    "a `{}` of {} bytes encoded does not fit a slot of {} bytes",
                    encoded.tag(),
                    bytes.len(),
                    self.slot_size
                ),
            });
        }
        self.write_slot(index, &bytes)
    }

    /// Empties slot `index`.
    ///
    /// # Errors
    ///
    /// As [`ShareableList::set`].
    pub fn clear(&self, index: usize) -> Result<(), Error> {
        self.write_slot(index, &[])
    }

    /// The item in slot `index` as a `T`; `None` if the slot is empty.
    ///
    /// # Errors
    ///
    /// `WrongType` (naming both types) if it holds another type, or
    /// `DoesNotFit` for a number `T` cannot hold; `IndexOutOfRange` past
    /// the end; [`Error::View`] if the slot stays busy.
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<Option<T>, Error> {
        let Some(encoded) = self.read_encoded(index)? else {
            return Ok(None);
        };
        Ok(Some(
            encoded.decode(format_args!("slot {index} of {}", self.what()))?,
        ))
    }

    /// The name of the type slot `index` holds; `None` if it is empty.
    ///
    /// # Errors
    ///
    /// As [`ShareableList::get`].
    pub fn type_name(&self, index: usize) -> Result<Option<String>, Error> {
        Ok(self
            .read_encoded(index)?
            .map(|encoded| encoded.tag().as_str().to_owned()))
    }

    fn what(&self) -> String {
        format!("shareable list `{}`", self.mapping.name())
    }

    /// The word index of slot `index`'s sequence number, and the byte
    /// offset of its length word.
    fn slot(&self, index: usize) -> Result<(usize, usize), Error> {
        if index >= self.len {
            return Err(Error::Manager(ManagerError::IndexOutOfRange {
                what: self.what(),
                index: i64::try_from(index).unwrap_or(i64::MAX),
                len: self.len as u64,
            }));
        }
        let stride = stride(self.slot_size).expect("checked when opened");
        let offset = HEADER + index * stride;
        Ok((offset / 8, offset + 8))
    }

    fn busy(&self, index: usize) -> Error {
        Error::View {
            what: self.what(),
            reason: format!(
                "slot {index} has been mid-write for {BUSY_FOR:?}: its writer may have died while \
                 writing it (writing the slot again takes it over)"
            ),
        }
    }

    fn write_slot(&self, index: usize, bytes: &[u8]) -> Result<(), Error> {
        let (seq_word, at) = self.slot(index)?;
        let region = self.mapping.region();
        let seq = &region.atomic_u64s()[seq_word];
        // Take the slot: an even sequence number made odd. One that stays
        // at the same odd number for `BUSY_FOR` belongs to a writer that
        // died mid-write: it is taken over (made the next odd number), so
        // the slot can be written again.
        let mut seen = seq.load(Ordering::Relaxed);
        let mut since = Instant::now();
        let taken = loop {
            let now = seq.load(Ordering::Relaxed);
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
            let stale = !now.is_multiple_of(2) && since.elapsed() > BUSY_FOR;
            // Even: free. Odd for too long: its writer is gone.
            let next = if now.is_multiple_of(2) || stale {
                now + 1 + u64::from(stale)
            } else {
                std::thread::yield_now();
                continue;
            };
            if seq
                .compare_exchange_weak(now, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                break next;
            }
        };
        fence(Ordering::Release);
        region.write(at, &(bytes.len() as u32).to_le_bytes());
        region.write(at + 8, bytes);
        // Given back only if no one took it over meanwhile (this writer
        // stalled past `BUSY_FOR`): then this write may be torn, and says
        // so, and the slot is the other writer's.
        seq.compare_exchange(taken, taken + 1, Ordering::Release, Ordering::Relaxed)
            .map(drop)
            .map_err(|_| Error::View {
                what: self.what(),
                reason: format!(
                    "slot {index} was taken over by another writer after this write \
                     stalled for over {BUSY_FOR:?}; write it again"
                ),
            })
    }

    fn read_encoded(&self, index: usize) -> Result<Option<Encoded>, Error> {
        let (seq_word, at) = self.slot(index)?;
        let region = self.mapping.region();
        let seq = &region.atomic_u64s()[seq_word];
        let since = Instant::now();
        let mut buf = vec![0; self.slot_size];
        loop {
            let before = seq.load(Ordering::Acquire);
            if before.is_multiple_of(2) {
                let mut len = [0; 4];
                region.read(at, &mut len);
                let len = (u32::from_le_bytes(len) as usize).min(self.slot_size);
                region.read(at + 8, &mut buf[..len]);
                fence(Ordering::Acquire);
                if seq.load(Ordering::Relaxed) == before {
                    if len == 0 {
                        return Ok(None);
                    }
                    // Whole and unchanged: a write by this list, so its
                    // bytes decode, unless another view wrote the block.
                    let encoded: Encoded =
                        manager_core::codec::decode(&buf[..len]).map_err(|e| Error::View {
                            what: self.what(),
                            reason: format!("slot {index} does not hold an item: {e}"),
                        })?;
                    return Ok(Some(encoded));
                }
            }
            if since.elapsed() > BUSY_FOR {
                return Err(self.busy(index));
            }
            std::thread::yield_now();
        }
    }
}

/// Bytes of one slot, header included, rounded to whole words.
fn stride(slot_size: usize) -> Option<usize> {
    slot_size.checked_add(SLOT_HEADER + 7).map(|n| n / 8 * 8)
}
