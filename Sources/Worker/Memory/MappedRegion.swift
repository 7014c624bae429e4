/// One mapping of a process's address space, as `/proc/<pid>/smaps` describes it: as much as
/// ``ResidentPages`` needs to tell whether unmapping its pages loses anything.
struct MappedRegion: Equatable, Sendable {
    var start: UInt
    var end: UInt
    /// `r-xp`, `rw-p`, `r--s`…
    var permissions: String
    /// The mapped file's inode; 0 for anonymous memory, the stack, `[vdso]` and the like.
    var inode: UInt64
    /// Its pages in memory and mapped here (`Rss`), in KiB.
    var residentKiB: Int
    /// Its pages that are this process's own copies (`Anonymous`), in KiB: relocations the loader
    /// wrote into a library's data, a breakpoint in its text.
    var anonymousKiB: Int

    /// Read-only, mapped from a file, resident, and without a page of its own: unmapping its pages
    /// loses nothing, as each is the file's page from the page cache and comes back from there.
    var isReleasable: Bool {
        !permissions.contains("w") && inode != 0 && anonymousKiB == 0 && residentKiB > 0
    }

    var length: Int { Int(end - start) }

    /// The mappings described by the text of an `smaps` file; lines it does not know are skipped.
    static func regions(inSmaps text: String) -> [MappedRegion] {
        var regions: [MappedRegion] = []
        for line in text.split(separator: "\n") {
            if let region = header(line) {
                regions.append(region)
            } else if !regions.isEmpty, let (name, kibibytes) = field(line) {
                switch name {
                case "Rss": regions[regions.count - 1].residentKiB = kibibytes
                case "Anonymous": regions[regions.count - 1].anonymousKiB = kibibytes
                default: break
                }
            }
        }
        return regions
    }

    /// `7f3a…-7f3b… r-xp 00000000 08:01 1234   /usr/lib/…`: a mapping's first line.
    private static func header(_ line: Substring) -> MappedRegion? {
        let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard parts.count >= 5 else { return nil }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
              start < end, parts[1].count == 4, let inode = UInt64(parts[4])
        else { return nil }
        // An unknown or absent size counts as a page of its own: such a mapping is never released.
        return MappedRegion(start: start, end: end, permissions: String(parts[1]), inode: inode, residentKiB: 0,
                            anonymousKiB: Int.max)
    }

    /// `Rss:   1234 kB`.
    private static func field(_ line: Substring) -> (String, Int)? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0].hasSuffix(":"), parts[2] == "kB", let value = Int(parts[1]) else { return nil }
        return (String(parts[0].dropLast()), value)
    }
}
