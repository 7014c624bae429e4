import CRabbitMQ
import Foundation

/// Owns the C memory handed to rabbitmq-c for the length of one call.
///
/// `amqp_cstring_bytes(swiftString)` would point into a temporary that is gone by the time the
/// library reads it; copies made here live until the arena is released.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for allocation in allocations { free(allocation) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ data: Data) -> amqp_bytes_t {
        data.withUnsafeBytes { bytes($0) }
    }

    func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard buffer.count > 0, let base = buffer.baseAddress else { return amqp_bytes_t(len: 0, bytes: nil) }
        let copy = allocate(buffer.count)
        copy.copyMemory(from: base, byteCount: buffer.count)
        return amqp_bytes_t(len: buffer.count, bytes: copy)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_empty_table }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, (key, value)) in table.sorted(by: { $0.key < $1.key }).enumerated() {
            var entry = amqp_table_entry_t()
            entry.key = bytes(key)
            switch value {
            case .string(let string):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = bytes(string)
            case .int(let int):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = int
            case .bool(let bool):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                entry.value.value.boolean = bool ? 1 : 0
            case .table(let nested):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
                entry.value.value.table = self.table(nested)
            }
            (entries + index).initialize(to: entry)
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        guard let pointer = malloc(count) else { fatalError("out of memory allocating \(count) bytes") }
        allocations.append(pointer)
        return pointer
    }
}

extension amqp_bytes_t {
    /// A Swift copy of bytes that live in the library's buffers.
    var data: Data {
        guard len > 0, let bytes else { return Data() }
        return Data(bytes: bytes, count: len)
    }

    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }
}

extension amqp_basic_properties_t {
    /// The message id, when the message has one.
    var messageID: String? {
        _flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 ? message_id.string : nil
    }

    /// The headers, empty when the message has none.
    var headerTable: AMQPTable {
        _flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0 ? headers.swiftTable : [:]
    }
}

extension amqp_table_t {
    /// The entries Botyard understands (strings, integers, booleans); others are left out.
    var swiftTable: AMQPTable {
        var table: AMQPTable = [:]
        guard num_entries > 0, let entries else { return table }
        for index in 0..<Int(num_entries) {
            let entry = entries[index]
            let value = entry.value.value
            switch UInt32(entry.value.kind) {
            case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue:
                table[entry.key.string] = .string(value.bytes.string)
            case AMQP_FIELD_KIND_I8.rawValue: table[entry.key.string] = .int(Int64(value.i8))
            case AMQP_FIELD_KIND_U8.rawValue: table[entry.key.string] = .int(Int64(value.u8))
            case AMQP_FIELD_KIND_I16.rawValue: table[entry.key.string] = .int(Int64(value.i16))
            case AMQP_FIELD_KIND_U16.rawValue: table[entry.key.string] = .int(Int64(value.u16))
            case AMQP_FIELD_KIND_I32.rawValue: table[entry.key.string] = .int(Int64(value.i32))
            case AMQP_FIELD_KIND_U32.rawValue: table[entry.key.string] = .int(Int64(value.u32))
            case AMQP_FIELD_KIND_I64.rawValue: table[entry.key.string] = .int(value.i64)
            case AMQP_FIELD_KIND_U64.rawValue: table[entry.key.string] = .int(Int64(clamping: value.u64))
            case AMQP_FIELD_KIND_TIMESTAMP.rawValue: table[entry.key.string] = .int(Int64(clamping: value.u64))
            case AMQP_FIELD_KIND_BOOLEAN.rawValue: table[entry.key.string] = .bool(value.boolean != 0)
            case AMQP_FIELD_KIND_ARRAY.rawValue:
                // Arrays of tables (like x-death) come through flattened: `x-death.0.reason`.
                let array = value.array
                guard array.num_entries > 0, let entries = array.entries else { continue }
                for index in 0..<Int(array.num_entries) where UInt32(entries[index].kind) == AMQP_FIELD_KIND_TABLE.rawValue {
                    for (key, nested) in entries[index].value.table.swiftTable {
                        table["\(entry.key.string).\(index).\(key)"] = nested
                    }
                }
            default: continue
            }
        }
        return table
    }
}

/// AMQP 0-9-1 method ids (class << 16 | method); rabbitmq-c defines them as casts, which Swift
/// does not import.
enum AMQPMethod {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOK: amqp_method_number_t = 0x000A_0033
    static let connectionBlocked: amqp_method_number_t = 0x000A_003C
    static let connectionUnblocked: amqp_method_number_t = 0x000A_003D
    static let channelOpen: amqp_method_number_t = 0x0014_000A
    static let channelOpenOK: amqp_method_number_t = 0x0014_000B
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOK: amqp_method_number_t = 0x0014_0029
    static let exchangeDeclare: amqp_method_number_t = 0x0028_000A
    static let exchangeDeclareOK: amqp_method_number_t = 0x0028_000B
    static let queueDeclare: amqp_method_number_t = 0x0032_000A
    static let queueDeclareOK: amqp_method_number_t = 0x0032_000B
    static let queueBind: amqp_method_number_t = 0x0032_0014
    static let queueBindOK: amqp_method_number_t = 0x0032_0015
    static let queueDelete: amqp_method_number_t = 0x0032_0028
    static let queueDeleteOK: amqp_method_number_t = 0x0032_0029
    static let basicQos: amqp_method_number_t = 0x003C_000A
    static let basicQosOK: amqp_method_number_t = 0x003C_000B
    static let basicConsume: amqp_method_number_t = 0x003C_0014
    static let basicConsumeOK: amqp_method_number_t = 0x003C_0015
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicCancelOK: amqp_method_number_t = 0x003C_001F
    static let basicGet: amqp_method_number_t = 0x003C_0046
    static let basicGetOK: amqp_method_number_t = 0x003C_0047
    static let basicGetEmpty: amqp_method_number_t = 0x003C_0048
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicDeliver: amqp_method_number_t = 0x003C_003C
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let confirmSelect: amqp_method_number_t = 0x0055_000A
    static let confirmSelectOK: amqp_method_number_t = 0x0055_000B
}
