import Synchronization

/// A single-producer, single-consumer ring of 16-bit samples with atomic indices.
///
/// The real-time loop is on one side of every ring; neither side ever waits
/// for the other. Indices count samples since creation and only grow, so
/// `write - read` is what is readable and the buffer position is `index & mask`.
/// The producer publishes with a release store after copying; the consumer
/// reads the index with acquire before copying (the shape of PipeWire's spa
/// ringbuffer).
public final class SampleRing: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Int16>
    public let capacity: Int
    private let mask: Int
    private let readIndex = Atomic<Int>(0)
    private let writeIndex = Atomic<Int>(0)
    /// Samples the producer could not place because the ring was full.
    public let dropped = Atomic<Int>(0)

    public init(capacity minimum: Int) {
        var size = 1
        while size < minimum { size <<= 1 }
        capacity = size
        mask = size - 1
        storage = .allocate(capacity: size)
        storage.initialize(repeating: 0, count: size)
    }

    deinit { storage.deallocate() }

    /// Samples written since creation (producer's position).
    public var written: Int { writeIndex.load(ordering: .acquiring) }
    /// Samples consumed since creation (consumer's position).
    public var consumed: Int { readIndex.load(ordering: .acquiring) }
    public var readable: Int { written - consumed }

    /// Producer: copies up to `count` samples in; returns how many fitted.
    @discardableResult
    public func write(_ source: UnsafePointer<Int16>, count: Int) -> Int {
        let w = writeIndex.load(ordering: .relaxed)
        let r = readIndex.load(ordering: .acquiring)
        let n = min(count, capacity - (w - r))
        if n < count { dropped.wrappingAdd(count - n, ordering: .relaxed) }
        guard n > 0 else { return 0 }
        let start = w & mask
        let first = min(n, capacity - start)
        (storage + start).update(from: source, count: first)
        if n > first { storage.update(from: source + first, count: n - first) }
        writeIndex.store(w + n, ordering: .releasing)
        return n
    }

    /// Consumer: copies up to `count` samples out; returns how many there were.
    @discardableResult
    public func read(into destination: UnsafeMutablePointer<Int16>, count: Int) -> Int {
        let r = readIndex.load(ordering: .relaxed)
        let w = writeIndex.load(ordering: .acquiring)
        let n = min(count, w - r)
        guard n > 0 else { return 0 }
        let start = r & mask
        let first = min(n, capacity - start)
        destination.update(from: storage + start, count: first)
        if n > first { (destination + first).update(from: storage, count: n - first) }
        readIndex.store(r + n, ordering: .releasing)
        return n
    }

    /// Consumer: drops everything readable now (the caller stops mid-line).
    public func discardAll() {
        readIndex.store(writeIndex.load(ordering: .acquiring), ordering: .releasing)
    }
}
