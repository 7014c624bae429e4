import Foundation
import Shared
import Testing

@testable import Worker

@Suite("Memory an idle worker gives back")
struct ResidentPagesTests {
    /// Six mappings as `/proc/self/smaps` shows them (fields trimmed), and a mapping without its sizes.
    static let smaps = """
        5562ba7b7000-5562baec1000 r-xp 00000000 fe:00 2629661                    /usr/bin/botyard-worker
        Size:               7208 kB
        Rss:                4392 kB
        Private_Dirty:         0 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me dw sd
        5562baec2000-5562baef5000 r--p 0070a000 fe:00 2629661                    /usr/bin/botyard-worker
        Rss:                 204 kB
        Anonymous:           204 kB
        VmFlags: rd mr mw me dw ac sd
        5562baef5000-5562baf90000 rw-p 0073d000 fe:00 2629661                    /usr/bin/botyard-worker
        Rss:                 492 kB
        Anonymous:            52 kB
        7f83d9000000-7f83d9001000 rw-p 00000000 fe:00 2258                       /usr/lib/libnever-written.so
        Rss:                   4 kB
        Anonymous:             0 kB
        7ffd1c9f0000-7ffd1ca11000 rw-p 00000000 00:00 0                          [stack]
        Rss:                  40 kB
        Anonymous:            40 kB
        7f83d8f71000-7f83d8f72000 r--p 02571000 fe:00 2257                       /usr/lib/libshared.so
        7f83d8f72000-7f83d8f99000 r--p 02571000 fe:00 2257                       /usr/lib/libshared.so
        Rss:                   0 kB
        Anonymous:             0 kB
        """

    @Test("of a process's mappings, only those read-only from a file, resident, and without a page of their own are released")
    func releasableMappings() {
        let regions = MappedRegion.regions(inSmaps: Self.smaps)
        #expect(regions.map(\.permissions) == ["r-xp", "r--p", "rw-p", "rw-p", "rw-p", "r--p", "r--p"])
        #expect(regions[0] == MappedRegion(start: 0x5562ba7b7000, end: 0x5562baec1000, permissions: "r-xp",
                                           inode: 2_629_661, residentKiB: 4392, anonymousKiB: 0))
        // The program's text; not its relocated data (pages of its own), its writable data (even
        // where none was written yet: a write could come before the release), the stack, a mapping
        // whose sizes are not shown, nor one with nothing resident.
        #expect(regions.map(\.isReleasable) == [true, false, false, false, false, false, false])
    }

    @Test("lines it does not know are skipped: an empty or garbled file has no mappings")
    func unknownText() {
        #expect(MappedRegion.regions(inSmaps: "").isEmpty)
        let garbled = "Rss: 4 kB\nnot-a-range r-xp 0 0 1 /x\n1000-0800 r-xp 0 0:0 1 /x"
        #expect(MappedRegion.regions(inSmaps: garbled).isEmpty)
    }

    @Test("a release unmaps a read-only file mapping, whose bytes read back from the file after it; pages the process wrote itself are kept")
    func releaseKeepsEveryByte() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("botyard-pages-\(UUID().uuidString)")
        let content = Data((0..<(4 * page)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try content.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let descriptor = open(file.path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }

        // Read-only from the file: released.
        let readOnly = try #require(mmap(nil, content.count, PROT_READ, MAP_PRIVATE, descriptor, 0))
        // Written after it was mapped, then made read-only (as the loader does with relocations): kept.
        let written = try #require(mmap(nil, content.count, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0))
        // Written and writable: kept.
        let writable = try #require(mmap(nil, content.count, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0))
        defer {
            for mapping in [readOnly, written, writable] { munmap(mapping, content.count) }
        }
        let failed = UnsafeMutableRawPointer(bitPattern: -1)
        try #require(readOnly != failed && written != failed && writable != failed)
        var sum = 0
        for offset in stride(from: 0, to: content.count, by: page) {
            sum += Int(readOnly.load(fromByteOffset: offset, as: UInt8.self))
        }
        written.storeBytes(of: 0xAB, toByteOffset: page, as: UInt8.self)
        #expect(mprotect(written, content.count, PROT_READ) == 0)
        writable.storeBytes(of: 0xCD, toByteOffset: 2 * page, as: UInt8.self)
        #expect(resident(readOnly) == 4 * page / 1024, "the test's reads made the mapping resident (sum \(sum))")

        let released = ResidentPages.release()

        #expect(released.mappings > 0 && released.kibibytes > 0)
        #expect(resident(readOnly) == 0)
        #expect(Data(bytes: readOnly, count: content.count) == content)
        var expectedWritten = content
        expectedWritten[page] = 0xAB
        #expect(Data(bytes: written, count: content.count) == expectedWritten)
        var expectedWritable = content
        expectedWritable[2 * page] = 0xCD
        #expect(Data(bytes: writable, count: content.count) == expectedWritable)
    }

    /// The KiB of `mapping` resident now, from this process's `smaps`.
    private func resident(_ mapping: UnsafeMutableRawPointer) -> Int? {
        let smaps = ProcFile.text("/proc/self/smaps") ?? ""
        return MappedRegion.regions(inSmaps: smaps).first { $0.start == UInt(bitPattern: mapping) }?.residentKiB
    }
}
