// Types and hash functions of the hot-row cache (docs/contracts.md s.11).
// models/row_cache.py computes the same set index and sketch indices.
package cache_pkg;

    // decision of one request (the decision trace, dec_kind)
    typedef enum logic [1:0] {
        DEC_UNCACHED = 2'd0,   // not cacheable: passed through
        DEC_HIT      = 2'd1,   // a valid line holds it (filled or fill in flight)
        DEC_FILL     = 2'd2,   // miss, admitted: the victim way takes the line
        DEC_BYPASS   = 2'd3    // miss, refused by frequency admission
    } dec_kind_e;

    // 32-bit fold of a line address (the sketch hashes 32 bits)
    function automatic logic [31:0] fold32(input logic [63:0] la);
        return la[31:0] ^ la[63:32];
    endfunction

endpackage
