//! The settlement CSV importer (one format for every gateway's statement): any bytes, pushed
//! whole and again in chunks cut where the first byte says; both ways must find the same rows
//! and the same problems, since a file arrives in whatever chunks the network delivers.
#![no_main]

use landpay::reconciliation::csv::{StatementParser, StatementRow};
use libfuzzer_sys::fuzz_target;

fn parse(chunks: &mut dyn Iterator<Item = &[u8]>) -> (Vec<StatementRow>, u64, Vec<String>) {
    let mut parser = StatementParser::new();
    let mut rows = Vec::new();
    for chunk in chunks {
        parser.push(chunk, &mut |row| rows.push(row));
    }
    let (count, errors) = parser.finish(&mut |row| rows.push(row));
    let errors = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    (rows, count, errors)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, file)) = data.split_first() else {
        return;
    };
    let whole = parse(&mut std::iter::once(file));
    let size = usize::from(cut % 64) + 1;
    let chunked = parse(&mut file.chunks(size));
    assert_eq!(whole, chunked, "chunks of {size} bytes parse differently");
});
