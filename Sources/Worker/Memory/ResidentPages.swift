import CSpawn
import Foundation
import Shared

/// Gives back the memory an idle worker holds only because it was used once.
///
/// Most of an idle worker's resident set is pages mapped from files: the Swift runtime,
/// Foundation and its ICU data, libc, OpenSSL, the worker's own program. Starting up and running
/// jobs touch many pages that idleness never touches again (and by default the kernel maps up to
/// fifteen neighbours with each page it faults in), and each counts in the process's RSS for as
/// long as it stays mapped, though it belongs to the page cache, shared with every process that
/// maps the same file. ``release()`` unmaps them: every read-only mapping of a file without a page of its
/// own (``MappedRegion/isReleasable``). The pages stay in the page cache and come back by a minor
/// fault when touched again. Then the allocator returns the free heap it holds (`malloc_trim`),
/// which is the process's own memory.
enum ResidentPages {
    /// What a release gave back.
    struct Released: Sendable, Equatable {
        /// Mappings unmapped.
        var mappings: Int
        /// Their pages that were resident, in KiB.
        var kibibytes: Int
    }

    /// Releases what the process's mappings hold (read from `/proc/self/smaps`), and free heap.
    @discardableResult
    static func release() -> Released {
        var released = Released(mappings: 0, kibibytes: 0)
        let smaps = ProcFile.text("/proc/self/smaps") ?? ""
        for region in MappedRegion.regions(inSmaps: smaps) where region.isReleasable {
            guard let address = UnsafeMutableRawPointer(bitPattern: region.start),
                  madvise(address, region.length, MADV_DONTNEED) == 0
            else { continue }
            released.mappings += 1
            released.kibibytes += region.residentKiB
        }
        malloc_trim(0)
        return released
    }
}
