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
}
