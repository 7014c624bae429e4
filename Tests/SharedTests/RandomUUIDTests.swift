import Foundation
import Shared
import Testing

@Suite("Random UUIDs")
struct RandomUUIDTests {
    @Test("a random UUID is version 4 of the RFC 4122 variant, and reads back from its text")
    func versionAndVariant() {
        for _ in 0..<1_000 {
            let uuid = UUID.random()
            #expect(uuid.uuid.6 >> 4 == 4)
            #expect(uuid.uuid.8 >> 6 == 0b10)
            #expect(UUID(uuidString: uuid.uuidString) == uuid)
        }
    }

    @Test("ten thousand random UUIDs are all different, and their random bits are not stuck")
    func distinct() {
        let uuids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(uuids).count == uuids.count)
        // Each of the 122 random bits is set in some UUIDs and clear in others.
        var anySet = [UInt8](repeating: 0, count: 16)
        var anyClear = [UInt8](repeating: 0, count: 16)
        for uuid in uuids {
            withUnsafeBytes(of: uuid.uuid) { bytes in
                for index in 0..<16 {
                    anySet[index] |= bytes[index]
                    anyClear[index] |= ~bytes[index]
                }
            }
        }
        let fixed: [Int: UInt8] = [6: 0xF0, 8: 0xC0]
        for index in 0..<16 {
            let free = ~(fixed[index] ?? 0)
            #expect(anySet[index] & free == free && anyClear[index] & free == free, "byte \(index)")
        }
    }

    @Test("a time-ordered UUID is version 7, begins with its milliseconds, and its text sorts by time")
    func timeOrdered() {
        let start = Date(timeIntervalSince1970: 1_800_000_000.125)
        let uuids = (0..<1_000).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) * 0.002)) }
        for uuid in uuids {
            #expect(uuid.uuid.6 >> 4 == 7)
            #expect(uuid.uuid.8 >> 6 == 0b10)
            #expect(UUID(uuidString: uuid.uuidString) == uuid)
        }
        // 1,800,000,000,125 ms is 0x01A3185C507D.
        #expect(uuids[0].uuidString.hasPrefix("01A3185C-507D-7"))
        #expect(uuids.map(\.uuidString) == uuids.map(\.uuidString).sorted())
        #expect(Set(uuids).count == uuids.count)
        // Within one millisecond the random bits tell them apart.
        #expect(Set((0..<1_000).map { _ in UUID.timeOrdered(at: start) }).count == 1_000)
    }
}
