//! Any bytes as an Arrow IPC stream, decoded as the Node package decodes it (arrow's decoder
//! under catch_unwind, since that is arrow's code), then registered as orders: the engine's
//! conformance to the object model must answer a typed error, never panic.
#![no_main]

use std::sync::LazyLock;

use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::ipc::reader::StreamDecoder;
use kpi_catalog::Catalog;
use kpi_core::Engine;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::standard);

fuzz_target!(|bytes: &[u8]| {
    let decoded = std::panic::catch_unwind(|| {
        let mut decoder = StreamDecoder::new();
        let mut buffer = Buffer::from(bytes);
        let mut batches = Vec::new();
        while let Ok(Some(batch)) = decoder.decode(&mut buffer) {
            batches.push(batch);
        }
        batches
    });
    let Ok(batches) = decoded else { return };
    if batches.is_empty() {
        return;
    }
    let engine = Engine::new(CATALOG.clone()).expect("an engine over the standard catalog");
    let _ = engine.register_batches("orders", batches.clone());
    let _ = engine.append_batches("orders", batches);
});
