#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with one condition variable: what the workers that hash and read ahead hand work over with.
///
/// The library does not link Foundation (its `NSCondition` is the same pair, but Foundation's start-up costs a
/// static `ckpt-validate` half a millisecond), and `Synchronization.Mutex` has no condition variable.
public final class ConditionLock: @unchecked Sendable {
    // On the heap: a pthread mutex or condition must not move, and Swift promises a stored property's address
    // only for the duration of one call that takes it with `&`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Takes the mutex.
    public func lock() { pthread_mutex_lock(mutex) }

    /// Gives the mutex back.
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the mutex.
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Gives the mutex back until signalled, then takes it again. Call it holding the mutex, in a loop that
    /// tests what it waits for (a wake-up may be spurious).
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes one waiter.
    public func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter.
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// Threads started without Foundation's `Thread`.
public enum DetachedThread {
    /// Starts a detached thread with a stack of `stackSize` bytes that runs `body`.
    /// - Returns: false when the thread could not be created (`body` then never runs).
    @discardableResult
    public static func start(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) -> Bool {
        final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, max(stackSize, Int(PTHREAD_STACK_MIN)))
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        if status != 0 { Unmanaged<Box>.fromOpaque(context).release() }
        return status == 0
    }
}
