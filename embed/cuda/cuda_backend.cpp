// The CUDA encoder backend: weights resident on the GPU (bf16 / fp16 / fp32), packed chunks of
// sequences pushed through the layers, outputs copied back while the next chunk computes.
//
// Streams: copy_in (chunk metadata, pinned -> device), compute (kernels, GEMMs, NCCL) and
// copy_out (results, device -> pinned). Metadata and results are double-buffered by chunk
// parity, so chunk i+1's upload and chunk i-1's download overlap chunk i's compute, and the host
// unpacks chunk i-1 meanwhile.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mpi_env.hpp"
#include "cuda/cuda_backend.hpp"
#include "cuda/chunk_plan.hpp"
#include "cuda/cuda_check.hpp"
#include "cuda/device.hpp"
#include "cuda/device_buffer.hpp"
#include "cuda/gemm.hpp"
#include "cuda/kernels.hpp"
#ifdef ESMPIPE_HAVE_NCCL
#include "cuda/nccl_group.hpp"
#endif
#include "encoder/backends.hpp"
#include "encoder/tokenizer.hpp"
#include "parallel/tp_group.hpp"
#include "parallel/tp_split.hpp"

namespace esm::embed {

namespace {

using cuda::Chunk;
using cuda::ChunkMeta;
using cuda::MetaLayout;
using cuda::OutputLayout;
using cuda::DeviceBuffer;
using cuda::DType;
using cuda::PinnedBuffer;

constexpr int kVocabPadded = 40;  // logits rows padded to a multiple of 8 for aligned GEMM output
constexpr int64_t kMaxChunkTokens = 65536;
constexpr uint64_t kReserveBytes = 768ull << 20;  // CUDA context, cuBLASLt, NCCL, fragmentation

DType act_type(CudaPrecision p) {
  return p == CudaPrecision::BF16 ? DType::BF16 : p == CudaPrecision::FP16 ? DType::F16 : DType::F32;
}

struct DeviceLayer {
  DeviceBuffer ln1_w, ln1_b, ln2_w, ln2_b, inv_freq;
  DeviceBuffer wqkv, bqkv, wo, bo, w1, b1, w2, b2;
  DeviceBuffer contact_w;  // this rank's heads of this layer [Hl]
};

struct Slot {  // double-buffered per-chunk state
  PinnedBuffer meta_host, out_host;
  DeviceBuffer meta_dev, out_dev;
  cudaEvent_t meta_uploaded = nullptr, computed = nullptr, downloaded = nullptr;
  Chunk chunk;
  bool pending = false;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::shared_ptr<const Model> model, const CudaOptions& options);
  ~CudaBackend() override;

  std::vector<SequenceOutput> forward(const std::vector<std::vector<int32_t>>& tokens,
                                      const OutputRequest& req) override;

  int64_t max_tokens() const { return max_tokens_; }
  uint64_t peak_bytes() const { return memory_.peak; }

 private:
  DeviceBuffer upload(const float* host, size_t n, DType t, const char* what);
  DeviceBuffer upload_f32(const float* host, size_t n, const char* what) { return upload(host, n, DType::F32, what); }
  void load_weights();
  void choose_max_tokens();
  void ensure_activations(int T, const std::vector<int>& layers, const OutputRequest& req, int64_t token_squares,
                          int R, int B);
  void pack_meta(const std::vector<std::vector<int32_t>>& tokens, const Chunk& c, Slot& slot);
  ChunkMeta device_meta(const Chunk& c, const Slot& slot) const;
  void run_chunk(const Chunk& c, Slot& slot, const std::vector<int>& layers, const OutputRequest& req);
  void unpack(const Slot& slot, const std::vector<std::vector<int32_t>>& tokens, const std::vector<int>& layers,
              const OutputRequest& req, std::vector<SequenceOutput>& out);
  void allreduce(float* data, size_t n);

  std::shared_ptr<const Model> model_;
  CudaOptions opt_;
  ModelConfig cfg_;
  DType act_;
  parallel::TpGroup tp_;
  parallel::TpSplit split_;
  cuda::DeviceInfo device_;
  cuda::MemoryCounter memory_;
#ifdef ESMPIPE_HAVE_NCCL
  std::unique_ptr<cuda::NcclGroup> nccl_;
#endif
  std::unique_ptr<cuda::Gemm> gemm_;
  cudaStream_t compute_ = nullptr, copy_in_ = nullptr, copy_out_ = nullptr;
  int64_t max_tokens_ = 0, max_token_squares_ = 0;

  DeviceBuffer staging_;
  DeviceBuffer embeddings_, final_ln_w_, final_ln_b_;
  DeviceBuffer lm_dense_w_, lm_dense_b_, lm_ln_w_, lm_ln_b_, lm_decoder_, lm_bias_;
  std::vector<DeviceLayer> layers_;

  // activations (capacity grows with the largest chunk seen)
  DeviceBuffer x_, xf_, h_, qkv_, q_, k_, v_, attn_, ffn_, logits_, probs_, contact_scratch_;
  std::array<Slot, 2> slots_;
};

CudaBackend::CudaBackend(std::shared_ptr<const Model> model, const CudaOptions& options)
    : model_(std::move(model)), opt_(options), cfg_(model_->config()), act_(act_type(options.precision)) {
  const bool have_mpi = mpi::initialized();
  if (opt_.tensor_parallel > 1 && !have_mpi) fail("--tensor-parallel needs the MPI session (run through esmpipe)");
  // Collective only where it has to be: TP groups, or no launcher variable naming the local rank
  // (then every rank lacks it alike, so all ranks take the same path).
  int local_rank = parallel::env_local_rank();
  if (local_rank < 0) local_rank = have_mpi ? parallel::node_local_rank(mpi::comm()) : 0;
  if (opt_.tensor_parallel > 1) tp_ = parallel::make_tp_group(mpi::comm(), opt_.tensor_parallel);
  split_ = parallel::make_tp_split(cfg_, tp_.tp_rank, tp_.tp_size);
  device_ = cuda::select_device(opt_.device, local_rank);
  log::info("CUDA backend: GPU ", device_.index, " (", device_.name, ", ", cuda::format_bytes(device_.total_bytes),
            "), ", precision_name(opt_.precision), ", tensor-parallel rank ", tp_.tp_rank, "/", tp_.tp_size);
  ESM_CUDA_CHECK(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking));
  ESM_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_in_, cudaStreamNonBlocking));
  ESM_CUDA_CHECK(cudaStreamCreateWithFlags(&copy_out_, cudaStreamNonBlocking));
  for (Slot& s : slots_) {
    ESM_CUDA_CHECK(cudaEventCreateWithFlags(&s.meta_uploaded, cudaEventDisableTiming));
    ESM_CUDA_CHECK(cudaEventCreateWithFlags(&s.computed, cudaEventDisableTiming));
    ESM_CUDA_CHECK(cudaEventCreateWithFlags(&s.downloaded, cudaEventDisableTiming));
  }
#ifdef ESMPIPE_HAVE_NCCL
  if (tp_.tp_size > 1) nccl_ = std::make_unique<cuda::NcclGroup>(tp_.comm);
#else
  if (tp_.tp_size > 1) fail("--tensor-parallel ", tp_.tp_size, " on GPUs needs NCCL, which this build lacks");
#endif
  load_weights();
  choose_max_tokens();
  gemm_ = std::make_unique<cuda::Gemm>(opt_.allow_tf32, static_cast<int>(max_tokens_), &memory_);
}

CudaBackend::~CudaBackend() {
  if (compute_) cudaStreamSynchronize(compute_);
  if (copy_out_) cudaStreamSynchronize(copy_out_);
  for (Slot& s : slots_) {
    if (s.meta_uploaded) cudaEventDestroy(s.meta_uploaded);
    if (s.computed) cudaEventDestroy(s.computed);
    if (s.downloaded) cudaEventDestroy(s.downloaded);
  }
  gemm_.reset();
#ifdef ESMPIPE_HAVE_NCCL
  nccl_.reset();
#endif
  for (cudaStream_t s : {compute_, copy_in_, copy_out_})
    if (s) cudaStreamDestroy(s);
  parallel::free_tp_group(tp_);
}

DeviceBuffer CudaBackend::upload(const float* host, size_t n, DType t, const char* what) {
  DeviceBuffer out(n * cuda::dtype_size(t), &memory_, what);
  if (t == DType::F32) {
    ESM_CUDA_CHECK(cudaMemcpy(out.get(), host, n * sizeof(float), cudaMemcpyHostToDevice));
    return out;
  }
  // Convert on the GPU: fp32 goes through a staging buffer, rounding happens in one kernel.
  staging_.ensure(n * sizeof(float), &memory_, "weight staging buffer");
  ESM_CUDA_CHECK(cudaMemcpy(staging_.get(), host, n * sizeof(float), cudaMemcpyHostToDevice));
  cuda::convert_from_f32(staging_.as<float>(), out.get(), t, n, compute_);
  ESM_CUDA_CHECK(cudaStreamSynchronize(compute_));
  return out;
}

void CudaBackend::load_weights() {
  const ModelWeights& w = model_->weights();
  const int D = cfg_.hidden, Hl = split_.heads_local, hd = split_.head_dim, Dl = split_.local_width(),
            Fl = split_.ffn_local;
  // Weight bytes on this GPU, checked before allocating so the error says what would fit.
  const size_t es = cuda::dtype_size(act_);
  const uint64_t per_layer = es * (3ull * Dl * D + 3ull * Dl + 1ull * D * Dl + 2ull * Fl * D + Fl) + 4ull * 8 * D;
  const uint64_t need = per_layer * cfg_.num_layers + es * (2ull * D * D) + 4ull * 40 * D * 2;
  if (need + kReserveBytes > device_.free_bytes) {
    std::string hint;
    for (int n : parallel::valid_tp_sizes(cfg_, 16))
      if (need / n + kReserveBytes < device_.free_bytes && n > tp_.tp_size) { hint = str(" (--tensor-parallel ", n, " would fit)"); break; }
    fail("GPU out of memory: model ", cfg_.name, " needs ", cuda::format_bytes(need), " of ",
         precision_name(opt_.precision), " weights per GPU at tensor-parallel ", tp_.tp_size, ", but GPU ",
         device_.index, " has ", cuda::format_bytes(device_.free_bytes), " free", hint);
  }
  embeddings_ = upload_f32(w.word_embeddings, static_cast<size_t>(kVocab) * D, "word embeddings");
  final_ln_w_ = upload_f32(w.final_ln_w, D, "final LayerNorm");
  final_ln_b_ = upload_f32(w.final_ln_b, D, "final LayerNorm");
  layers_.resize(cfg_.num_layers);
  for (int l = 0; l < cfg_.num_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    parallel::LayerShard shard = parallel::shard_layer(lw, split_);
    DeviceLayer& d = layers_[l];
    d.ln1_w = upload_f32(lw.attn_ln_w, D, "LayerNorm");
    d.ln1_b = upload_f32(lw.attn_ln_b, D, "LayerNorm");
    d.ln2_w = upload_f32(lw.ffn_ln_w, D, "LayerNorm");
    d.ln2_b = upload_f32(lw.ffn_ln_b, D, "LayerNorm");
    if (static_cast<int>(lw.inv_freq.size()) != hd / 2)
      fail("model ", cfg_.name, " layer ", l, ": inv_freq has ", lw.inv_freq.size(), " values, expected ", hd / 2);
    d.inv_freq = upload_f32(lw.inv_freq.data(), lw.inv_freq.size(), "rotary frequencies");
    d.wqkv = upload(shard.wqkv.data(), shard.wqkv.size(), act_, "QKV weights");
    d.bqkv = upload(shard.bqkv.data(), shard.bqkv.size(), act_, "QKV bias");
    d.wo = upload(shard.wo.data(), shard.wo.size(), act_, "attention output weights");
    d.w1 = upload(shard.w1.data(), shard.w1.size(), act_, "FFN weights");
    d.b1 = upload(shard.b1.data(), shard.b1.size(), act_, "FFN bias");
    d.w2 = upload(shard.w2.data(), shard.w2.size(), act_, "FFN weights");
    if (split_.adds_bias()) {  // residual outputs are fp32, so their biases are too
      d.bo = upload_f32(shard.bo.data(), shard.bo.size(), "attention output bias");
      d.b2 = upload_f32(shard.b2.data(), shard.b2.size(), "FFN output bias");
    }
    if (w.contact_w)
      d.contact_w = upload_f32(w.contact_w + static_cast<size_t>(l) * cfg_.heads + split_.head_begin, Hl,
                               "contact regression weights");
  }
  if (w.has_lm_head) {
    lm_dense_w_ = upload(w.lm_dense_w, static_cast<size_t>(D) * D, act_, "LM head");
    lm_dense_b_ = upload_f32(w.lm_dense_b, D, "LM head");
    lm_ln_w_ = upload_f32(w.lm_ln_w, D, "LM head");
    lm_ln_b_ = upload_f32(w.lm_ln_b, D, "LM head");
    std::vector<float> decoder(static_cast<size_t>(kVocabPadded) * D, 0.f), bias(kVocabPadded, 0.f);
    std::memcpy(decoder.data(), w.lm_decoder_w, sizeof(float) * kVocab * D);
    std::memcpy(bias.data(), w.lm_bias, sizeof(float) * kVocab);
    lm_decoder_ = upload(decoder.data(), decoder.size(), act_, "LM decoder");
    lm_bias_ = upload_f32(bias.data(), bias.size(), "LM bias");
  }
  staging_.reset();
  ESM_CUDA_CHECK(cudaDeviceSynchronize());
}

// Bytes of activation memory per token of a chunk (one requested layer and logits assumed for
// the output slots; requests with more layers grow the slots when they come).
void CudaBackend::choose_max_tokens() {
  const int D = cfg_.hidden, Dl = split_.local_width(), Fl = split_.ffn_local;
  const size_t es = cuda::dtype_size(act_);
  const uint64_t per_token = 4ull * D * 2                                  // x, xf
                             + es * (D + 3ull * Dl + 3ull * Dl + Dl + Fl)  // h, qkv, q/k/v, attn, ffn
                             + 4ull * kVocabPadded + 64                    // logits, metadata
                             + 2ull * 4 * (D + kVocab);                    // two output slots
  size_t free_b = 0, total_b = 0;
  ESM_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  const uint64_t budget = free_b > kReserveBytes + (32ull << 20) ? free_b - kReserveBytes - (32ull << 20) : 0;
  const int64_t fit = static_cast<int64_t>(budget * 0.85 / per_token);
  if (opt_.max_tokens > 0) {
    max_tokens_ = opt_.max_tokens;
    if (max_tokens_ > fit)
      log::warn("--max-tokens ", max_tokens_, " is more than the ", fit, " tokens that fit in the ",
                cuda::format_bytes(free_b), " free on GPU ", device_.index, "; expect an out-of-memory error");
  } else {
    if (fit < 1026)
      fail("GPU out of memory: after the weights GPU ", device_.index, " has ", cuda::format_bytes(free_b),
           " free, room for ", std::max<int64_t>(fit, 0), " tokens per chunk; one 1024-token sequence needs ",
           cuda::format_bytes(per_token * 1026), ". Use --tensor-parallel or a GPU with more memory");
    max_tokens_ = std::min<int64_t>(kMaxChunkTokens, fit / 1024 * 1024);
  }
  // Attention maps for --contacts (fp32, Hl per token pair) get a quarter of the budget.
  max_token_squares_ = std::max<int64_t>(1026 * 1026, static_cast<int64_t>(budget / 4 / (4ull * split_.heads_local)));
  log::info("CUDA backend: ", cuda::format_bytes(memory_.current), " of weights on GPU ", device_.index,
            ", chunks of up to ", max_tokens_, " tokens");
}

void CudaBackend::ensure_activations(int T, const std::vector<int>& layers, const OutputRequest& req,
                                     int64_t token_squares, int R, int B) {
  const int D = cfg_.hidden, Dl = split_.local_width(), Fl = split_.ffn_local, Hl = split_.heads_local;
  const size_t es = cuda::dtype_size(act_), t = static_cast<size_t>(T);
  x_.ensure(4 * t * D, &memory_, "residual stream");
  xf_.ensure(4 * t * D, &memory_, "final LayerNorm output");
  h_.ensure(es * t * D, &memory_, "LayerNorm output");
  qkv_.ensure(es * t * 3 * Dl, &memory_, "QKV projections");
  q_.ensure(es * t * Dl, &memory_, "queries");
  k_.ensure(es * t * Dl, &memory_, "keys");
  v_.ensure(es * t * Dl, &memory_, "values");
  attn_.ensure(es * t * Dl, &memory_, "attention output");
  ffn_.ensure(es * t * Fl, &memory_, "FFN hidden");
  if (req.logits) logits_.ensure(4 * t * kVocabPadded, &memory_, "logits");
  if (req.contacts) {
    probs_.ensure(4ull * Hl * token_squares, &memory_, "attention maps for --contacts");
    contact_scratch_.ensure(4ull * Hl * (R + B), &memory_, "contact scratch");
  }
}

void CudaBackend::pack_meta(const std::vector<std::vector<int32_t>>& tokens, const Chunk& c, Slot& slot) {
  const MetaLayout ml(c);
  // The previous upload from this pinned buffer must be finished before it is rewritten.
  ESM_CUDA_CHECK(cudaEventSynchronize(slot.meta_uploaded));
  slot.meta_host.ensure(ml.total);
  cuda::fill_chunk_meta(tokens, c, slot.meta_host.as<char>());
  // The chunk that used this slot before (i - 2) was unpacked, so its compute is over and
  // meta_dev may be overwritten.
  slot.meta_dev.ensure(ml.total, &memory_, "chunk metadata");
  ESM_CUDA_CHECK(cudaMemcpyAsync(slot.meta_dev.get(), slot.meta_host.get(), ml.total, cudaMemcpyHostToDevice, copy_in_));
  ESM_CUDA_CHECK(cudaEventRecord(slot.meta_uploaded, copy_in_));
}

ChunkMeta CudaBackend::device_meta(const Chunk& c, const Slot& slot) const {
  const MetaLayout ml(c);
  const char* base = slot.meta_dev.as<const char>();
  ChunkMeta m;
  m.tokens = reinterpret_cast<const int32_t*>(base + ml.tokens);
  m.positions = reinterpret_cast<const int32_t*>(base + ml.positions);
  m.token_seq = reinterpret_cast<const int32_t*>(base + ml.token_seq);
  m.cu_seqlens = reinterpret_cast<const int32_t*>(base + ml.cu_seqlens);
  m.dropout_denominator = reinterpret_cast<const float*>(base + ml.denom);
  m.residue_token = reinterpret_cast<const int32_t*>(base + ml.residue_token);
  m.residue_seq = reinterpret_cast<const int32_t*>(base + ml.residue_seq);
  m.cu_residues = reinterpret_cast<const int32_t*>(base + ml.cu_residues);
  m.cu_token_squares = reinterpret_cast<const int64_t*>(base + ml.cu_tsq);
  m.cu_residue_squares = reinterpret_cast<const int64_t*>(base + ml.cu_rsq);
  m.attn_tiles = reinterpret_cast<const int32_t*>(base + ml.tiles);
  m.T = c.T;
  m.B = static_cast<int>(c.count);
  m.R = c.R;
  m.num_tiles = c.tiles;
  m.token_squares = c.token_squares;
  m.residue_squares = c.residue_squares;
  return m;
}

void CudaBackend::allreduce(float* data, size_t n) {
#ifdef ESMPIPE_HAVE_NCCL
  if (nccl_) nccl_->allreduce_sum(data, n, compute_);
#endif
}

void CudaBackend::run_chunk(const Chunk& c, Slot& slot, const std::vector<int>& layers, const OutputRequest& req) {
  const int D = cfg_.hidden, L = cfg_.num_layers, Hl = split_.heads_local, hd = split_.head_dim,
            Dl = split_.local_width(), Fl = split_.ffn_local;
  const int B = static_cast<int>(c.count), T = c.T;
  const bool lead = split_.adds_bias();
  const ChunkMeta m = device_meta(c, slot);
  const OutputLayout ol(static_cast<int>(layers.size()), c, D, req.logits);
  // The device output buffer is free once the previous download from it has finished.
  ESM_CUDA_CHECK(cudaStreamWaitEvent(compute_, slot.downloaded, 0));
  slot.out_dev.ensure(4 * std::max<size_t>(ol.total, 1), &memory_, "chunk outputs");
  float* out = slot.out_dev.as<float>();
  ESM_CUDA_CHECK(cudaStreamWaitEvent(compute_, slot.meta_uploaded, 0));

  auto emit_representation = [&](int rep, const float* src) {
    for (size_t li = 0; li < layers.size(); ++li)
      if (layers[li] == rep) {
        float* rows = out + ol.layer_rows + li * static_cast<size_t>(c.R) * D;
        cuda::gather_residues(src, D, D, m, rows, compute_);
        cuda::sequence_means(rows, D, m, out + ol.layer_means + li * static_cast<size_t>(B) * D, compute_);
      }
  };
  float* contact_acc = out + ol.contacts;
  if (req.contacts)
    ESM_CUDA_CHECK(cudaMemsetAsync(contact_acc, 0, 4 * static_cast<size_t>(c.residue_squares), compute_));

  float* x = x_.as<float>();
  cuda::embed_tokens(embeddings_.as<float>(), D, m, cfg_.token_dropout, x, compute_);
  emit_representation(0, x);
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int l = 0; l < L; ++l) {
    DeviceLayer& w = layers_[l];
    cuda::layer_norm(x, T, D, w.ln1_w.as<float>(), w.ln1_b.as<float>(), cfg_.layer_norm_eps, h_.get(), act_, compute_);
    gemm_->linear(h_.get(), w.wqkv.get(), act_, T, D, 3 * Dl, qkv_.get(), act_, w.bqkv.get(), cuda::Epilogue::Bias,
                  false, compute_);
    cuda::qkv_split_rotary(qkv_.get(), act_, m, Hl, hd, w.inv_freq.as<float>(), q_scale, q_.get(), k_.get(),
                           v_.get(), compute_);
    if (req.contacts) {
      cuda::attention_exact(q_.get(), k_.get(), v_.get(), act_, m, Hl, hd, attn_.get(), probs_.as<float>(), compute_);
      if (w.contact_w.get())
        cuda::contacts_accumulate(probs_.as<float>(), m, Hl, w.contact_w.as<float>(), contact_scratch_.as<float>(),
                                  contact_acc, compute_);
    } else if (act_ == DType::F32 || !cuda::flash_attention_supports(hd)) {
      cuda::attention_exact(q_.get(), k_.get(), v_.get(), act_, m, Hl, hd, attn_.get(), nullptr, compute_);
    } else {
      cuda::flash_attention(q_.get(), k_.get(), v_.get(), act_, m, Hl, hd, attn_.get(), compute_);
    }
    // Row-parallel output projection: the lead rank adds bias and residual, the others their
    // partial product only; the all-reduce sums them into the new residual stream everywhere.
    gemm_->linear(attn_.get(), w.wo.get(), act_, T, Dl, D, x, DType::F32, lead ? w.bo.get() : nullptr,
                  lead ? cuda::Epilogue::Bias : cuda::Epilogue::None, lead, compute_);
    allreduce(x, static_cast<size_t>(T) * D);
    cuda::layer_norm(x, T, D, w.ln2_w.as<float>(), w.ln2_b.as<float>(), cfg_.layer_norm_eps, h_.get(), act_, compute_);
    gemm_->linear(h_.get(), w.w1.get(), act_, T, D, Fl, ffn_.get(), act_, w.b1.get(),
                  opt_.fused_gelu_epilogue ? cuda::Epilogue::BiasGelu : cuda::Epilogue::Bias, false, compute_);
    if (!opt_.fused_gelu_epilogue) cuda::gelu_inplace(ffn_.get(), act_, static_cast<size_t>(T) * Fl, compute_);
    gemm_->linear(ffn_.get(), w.w2.get(), act_, T, Fl, D, x, DType::F32, lead ? w.b2.get() : nullptr,
                  lead ? cuda::Epilogue::Bias : cuda::Epilogue::None, lead, compute_);
    allreduce(x, static_cast<size_t>(T) * D);
    if (l + 1 < L) emit_representation(l + 1, x);
  }
  float* xf = xf_.as<float>();
  cuda::layer_norm(x, T, D, final_ln_w_.as<float>(), final_ln_b_.as<float>(), cfg_.layer_norm_eps, xf, DType::F32,
                   compute_);
  emit_representation(L, xf);

  if (req.logits) {
    // LM head: gelu(xf Wdᵀ + bd) in fp32, LayerNorm, then the tied decoder (padded to 40 rows).
    const void* head_in = xf;
    if (act_ != DType::F32) {
      cuda::convert_from_f32(xf, h_.get(), act_, static_cast<size_t>(T) * D, compute_);
      head_in = h_.get();
    }
    gemm_->linear(head_in, lm_dense_w_.get(), act_, T, D, D, x, DType::F32, lm_dense_b_.get(), cuda::Epilogue::Bias,
                  false, compute_);
    cuda::gelu_inplace(x, DType::F32, static_cast<size_t>(T) * D, compute_);
    cuda::layer_norm(x, T, D, lm_ln_w_.as<float>(), lm_ln_b_.as<float>(), cfg_.layer_norm_eps, h_.get(), act_,
                     compute_);
    gemm_->linear(h_.get(), lm_decoder_.get(), act_, T, D, kVocabPadded, logits_.get(), DType::F32, lm_bias_.get(),
                  cuda::Epilogue::Bias, false, compute_);
    cuda::gather_residues(logits_.as<float>(), kVocabPadded, kVocab, m, out + ol.logits, compute_);
  }
  if (req.contacts) {
    allreduce(contact_acc, static_cast<size_t>(c.residue_squares));
    cuda::contacts_finish(contact_acc, static_cast<size_t>(c.residue_squares), model_->weights().contact_b, compute_);
  }
  ESM_CUDA_CHECK(cudaEventRecord(slot.computed, compute_));

  // Download on its own stream once computed; the pinned buffer was unpacked before reuse.
  slot.out_host.ensure(4 * std::max<size_t>(ol.total, 1));
  ESM_CUDA_CHECK(cudaStreamWaitEvent(copy_out_, slot.computed, 0));
  ESM_CUDA_CHECK(cudaMemcpyAsync(slot.out_host.get(), out, 4 * ol.total, cudaMemcpyDeviceToHost, copy_out_));
  ESM_CUDA_CHECK(cudaEventRecord(slot.downloaded, copy_out_));
  slot.chunk = c;
  slot.pending = true;
}

void CudaBackend::unpack(const Slot& slot, const std::vector<std::vector<int32_t>>& tokens,
                         const std::vector<int>& layers, const OutputRequest& req, std::vector<SequenceOutput>& out) {
  ESM_CUDA_CHECK(cudaEventSynchronize(slot.downloaded));
  const Chunk& c = slot.chunk;
  const int D = cfg_.hidden, B = static_cast<int>(c.count);
  const OutputLayout ol(static_cast<int>(layers.size()), c, D, req.logits);
  const float* host = slot.out_host.as<const float>();
  size_t r0 = 0, sq0 = 0;
  for (int b = 0; b < B; ++b) {
    SequenceOutput& so = out[c.first + b];
    const int n = static_cast<int>(tokens[c.first + b].size()) - 2;
    so.n = n;
    so.layers.resize(layers.size());
    so.means.resize(layers.size());
    for (size_t li = 0; li < layers.size(); ++li) {
      const float* rows = host + ol.layer_rows + (li * c.R + r0) * D;
      so.layers[li].assign(rows, rows + static_cast<size_t>(n) * D);
      const float* mean = host + ol.layer_means + (li * B + b) * static_cast<size_t>(D);
      so.means[li].assign(mean, mean + D);
    }
    if (req.logits) {
      const float* lg = host + ol.logits + r0 * kVocab;
      so.logits.assign(lg, lg + static_cast<size_t>(n) * kVocab);
    }
    if (req.contacts) {
      const float* ct = host + ol.contacts + sq0;
      so.contacts.assign(ct, ct + static_cast<size_t>(n) * n);
    }
    r0 += n;
    sq0 += static_cast<size_t>(n) * n;
  }
}

std::vector<SequenceOutput> CudaBackend::forward(const std::vector<std::vector<int32_t>>& tokens,
                                                 const OutputRequest& req) {
  std::vector<SequenceOutput> out(tokens.size());
  if (tokens.empty()) return out;
  const std::vector<int> layers = check_forward_input(tokens, req, *model_);
  if (req.contacts && !model_->weights().contact_w)
    fail(model_->dir(), ": contacts requested but the checkpoint has no contact regression weights");

  const std::vector<Chunk> chunks = cuda::plan_chunks(tokens, max_tokens_, req.contacts, max_token_squares_);
  int max_T = 0, max_R = 0, max_B = 0;
  int64_t max_sq = 0;
  for (const Chunk& c : chunks) {
    max_T = std::max(max_T, c.T);
    max_R = std::max(max_R, c.R);
    max_B = std::max(max_B, static_cast<int>(c.count));
    max_sq = std::max(max_sq, c.token_squares);
  }
  ESM_CUDA_CHECK(cudaStreamSynchronize(compute_));  // activation buffers may be reallocated
  ensure_activations(max_T, layers, req, max_sq, max_R, max_B);

  for (size_t i = 0; i < chunks.size(); ++i) {
    Slot& slot = slots_[i % 2];
    if (slot.pending) {  // its previous chunk (i - 2) must be unpacked before the buffers are reused
      unpack(slot, tokens, layers, req, out);
      slot.pending = false;
    }
    pack_meta(tokens, chunks[i], slot);
    run_chunk(chunks[i], slot, layers, req);
    if (i >= 1) {  // chunk i-1 is done or nearly: unpack it while chunk i computes
      Slot& prev = slots_[(i - 1) % 2];
      if (prev.pending) {
        unpack(prev, tokens, layers, req, out);
        prev.pending = false;
      }
    }
  }
  for (Slot& s : slots_)
    if (s.pending) {
      unpack(s, tokens, layers, req, out);
      s.pending = false;
    }
  return out;
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model, const CudaOptions& options) {
  return std::make_unique<CudaBackend>(std::move(model), options);
}

int64_t cuda_backend_max_tokens(const Backend& backend) {
  auto* b = dynamic_cast<const CudaBackend*>(&backend);
  return b ? b->max_tokens() : 0;
}

uint64_t cuda_backend_peak_bytes(const Backend& backend) {
  auto* b = dynamic_cast<const CudaBackend*>(&backend);
  return b ? b->peak_bytes() : 0;
}

}  // namespace esm::embed
