//! Where the allocator gets its memory: first the part of the module's starting memory
//! above its static data (from `__heap_base` to the end of the initial pages), then pages it
//! grows, each extending the same heap. Talc's own wasm source claims only the pages it
//! grows, which left that first part unused and cost every page a whole 64 KiB page more.

use core::alloc::Layout;
use core::arch::wasm32::{memory_grow, memory_size};
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::{Talc, CHUNK_UNIT};
use talc::source::Source;

const PAGE: usize = 64 * 1024;

extern "C" {
    /// Where the linker put the end of the static data (the stack comes first, below it).
    static __heap_base: u8;
}

/// Talc's source of memory, as above.
#[derive(Debug, Default)]
pub struct StartingMemoryThenGrow {
    started: bool,
    end: Option<NonNull<u8>>,
}

impl StartingMemoryThenGrow {
    /// Nothing claimed yet: the first allocation claims the starting memory.
    pub const fn new() -> Self {
        Self {
            started: false,
            end: None,
        }
    }
}

// SAFETY: `acquire` allocates nothing itself, and hands Talc only memory that nothing else
// uses: above the static data, which the stack lies below, and pages grown for it alone.
unsafe impl Source for StartingMemoryThenGrow {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let memory_end = memory_size::<0>() * PAGE;
        if !talc.source.started {
            talc.source.started = true;
            let base = (&raw const __heap_base).cast_mut();
            let size = memory_end.saturating_sub(base as usize);
            // SAFETY: as above; Talc retries the allocation, and asks again if it does not fit.
            talc.source.end = unsafe { talc.claim(base, size) };
            return Ok(());
        }
        // Enough for this allocation with Talc's overhead on either side, in whole pages.
        let pages = (layout.size() + layout.align() + 4 * CHUNK_UNIT).div_ceil(PAGE);
        let previous = memory_grow::<0>(pages);
        if previous == usize::MAX {
            return Err(());
        }
        let base = (previous * PAGE) as *mut u8;
        let end = base.wrapping_add(pages * PAGE);
        talc.source.end = match talc.source.end.take() {
            // SAFETY: the grown pages follow the heap's end directly.
            Some(heap_end) if heap_end.as_ptr() == base => {
                Some(unsafe { talc.extend(heap_end, end) })
            }
            // SAFETY: pages grown for the allocator alone.
            _ => unsafe { talc.claim(base, pages * PAGE) },
        };
        Ok(())
    }
}
