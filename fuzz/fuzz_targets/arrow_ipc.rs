//! Any bytes as an Arrow IPC stream, decoded as the Node package decodes it (arrow's decoder
//! under catch_unwind, since that is arrow's code), then registered as orders: the engine's
//! conformance to the object model must answer a typed error, never panic.
//!
//! libFuzzer's panic hook aborts on every panic, caught or not, so the hook is silenced while
//! arrow decodes: arrow-ipc 59.3 panics on some malformed schema messages (`convert.rs:514`),
//! which the Node package turns into a typed error, and only a panic in our code is a finding.
#![no_main]

use std::sync::LazyLock;

use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::ipc::reader::StreamDecoder;
use kpi_catalog::Catalog;
use kpi_core::Engine;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::standard);

fuzz_target!(|bytes: &[u8]| {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let decoded = std::panic::catch_unwind(|| {
        let mut decoder = StreamDecoder::new();
        let mut buffer = Buffer::from(bytes);
        let mut batches = Vec::new();
        while let Ok(Some(batch)) = decoder.decode(&mut buffer) {
            batches.push(batch);
        }
        batches
    });
    std::panic::set_hook(hook);
    let Ok(batches) = decoded else { return };
    if batches.is_empty() {
        return;
    }
    let engine = Engine::new(CATALOG.clone()).expect("an engine over the standard catalog");
    let _ = engine.register_batches("orders", batches.clone());
    let _ = engine.append_batches("orders", batches);
});
