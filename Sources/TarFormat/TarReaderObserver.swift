/// Sees the raw structure a `TarReader` reads, for validators that check what the header model hides:
/// field encodings, record order and duplicates, padding bytes.
public protocol TarReaderObserver: AnyObject {
    /// A header block whose checksum was verified (entry headers and extended headers alike).
    func tarReader(_ reader: TarReader, readHeaderBlock block: UnsafeRawBufferPointer, at offset: Int64)
    /// The body of an extended header (pax `x`/`g`, GNU `L`/`K`) whose header block is at `offset`.
    func tarReader(_ reader: TarReader, readExtendedHeaderBody body: [UInt8], at offset: Int64)
    /// Padding after data or an extended header body that is not all zero.
    func tarReader(_ reader: TarReader, sawNonZeroPaddingAt offset: Int64)
}
