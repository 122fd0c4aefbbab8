#pragma once
// Packet descriptors: what travels through the simulated datacenter.
//
// A descriptor carries the packet's real header bytes (Ethernet onward, so the real dfw parser
// runs on them), the size on the wire and, for a segmentation-offload super-packet, how many wire
// segments it stands for. Payloads are never materialized. Descriptors come from a PacketPool and
// are linked into queues intrusively: the hot path never allocates.
//
// Ownership: exactly one owner at a time (a queue, a link in flight, a host core, a transport
// stack). Whoever drops or consumes a packet returns it to the pool.

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/time.h"

namespace models {

inline constexpr uint32_t kMaxHeaderSize = 128;
inline constexpr uint32_t kNoFlow = UINT32_MAX;
inline constexpr uint32_t kNoSocket = UINT32_MAX;
using VmIndex = uint32_t;
inline constexpr VmIndex kNoVm = UINT32_MAX;

struct Packet {
  std::array<uint8_t, kMaxHeaderSize> header;  // real bytes from the Ethernet header on
  uint16_t header_size = 0;                    // valid bytes in `header`
  uint16_t segment_count = 1;                  // wire segments this (super-)packet stands for
  uint32_t wire_size = 0;                      // bytes on the wire, all segments, all headers
  uint32_t payload_size = 0;                   // L4 payload bytes carried (transport's view)
  uint32_t flow = kNoFlow;                     // the traffic model's flow index
  VmIndex source_vm = kNoVm;
  VmIndex destination_vm = kNoVm;
  sim::Time sent_at;                           // when the source VM handed it to its vNIC
  uint64_t flow_hash = 0;                      // 5-tuple hash (RSS, ECMP), set by the builder
  bool ecn_marked = false;                     // CE set by a queue above its ECN threshold
  // Transmit completion (TCP small queues): a sender that sets sender_socket is told, through its
  // VM's Vm::transmit_listener, when the packet leaves the VM's vNIC queue or is dropped before
  // it does. PacketPool::allocate() resets it, so no other sender has to know about it.
  uint32_t sender_socket = kNoSocket;          // the sender's own slot index
  uint32_t sender_socket_generation = 0;       // the slot's generation (a reused slot ignores it)
  Packet* next = nullptr;                      // intrusive queue link, owned by the current queue
  uint32_t pool_index = 0;
};

// A pool of descriptors that grows in chunks and recycles through a free list.
class PacketPool {
 public:
  PacketPool() = default;
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  Packet* allocate() {
    if (free_ == nullptr) grow();
    Packet* p = free_;
    free_ = p->next;
    p->next = nullptr;
    p->sender_socket = kNoSocket;
    ++live_;
    return p;
  }
  void release(Packet* p) {
    p->next = free_;
    free_ = p;
    --live_;
  }
  std::size_t live_count() const { return live_; }
  std::size_t capacity() const { return chunks_.size() * kChunkSize; }

 private:
  static constexpr std::size_t kChunkSize = 4096;
  void grow() {
    auto chunk = std::make_unique<Packet[]>(kChunkSize);
    const uint32_t base = static_cast<uint32_t>(chunks_.size() * kChunkSize);
    for (std::size_t i = kChunkSize; i-- > 0;) {
      chunk[i].pool_index = base + static_cast<uint32_t>(i);
      chunk[i].next = free_;
      free_ = &chunk[i];
    }
    chunks_.push_back(std::move(chunk));
  }
  std::vector<std::unique_ptr<Packet[]>> chunks_;
  Packet* free_ = nullptr;
  std::size_t live_ = 0;
};

// FIFO of packets linked through Packet::next.
class PacketQueue {
 public:
  void push(Packet* p) {
    p->next = nullptr;
    if (tail_) tail_->next = p; else head_ = p;
    tail_ = p;
    ++count_;
  }
  Packet* pop() {
    Packet* p = head_;
    if (!p) return nullptr;
    head_ = p->next;
    if (!head_) tail_ = nullptr;
    p->next = nullptr;
    --count_;
    return p;
  }
  Packet* front() const { return head_; }
  bool empty() const { return head_ == nullptr; }
  std::size_t count() const { return count_; }

 private:
  Packet* head_ = nullptr;
  Packet* tail_ = nullptr;
  std::size_t count_ = 0;
};

// Where a VM's inbound packets go: the VM's transport stack (traffic models implement it).
// The callee owns the packet and must return it to the pool.
class PacketReceiver {
 public:
  virtual ~PacketReceiver() = default;
  virtual void receive(Packet* packet) = 0;
};

// Who wants to know when a VM's packet has left its vNIC queue (Packet::sender_socket): the VM's
// transport stack, for TCP small queues. Called synchronously by the host, possibly while the
// stack is inside PacketTransmitter::transmit() (a packet dropped at once); it must not keep the
// packet, which the host still owns.
class TransmitListener {
 public:
  virtual ~TransmitListener() = default;
  virtual void transmit_completed(const Packet& packet) = 0;
};

// How a VM's transport stack sends: the network side (the VM's host) implements it and takes
// ownership. The packet must carry valid header bytes, wire_size, source/destination VM and
// sent_at; the host may drop it (then it counts the reason and releases it).
class PacketTransmitter {
 public:
  virtual ~PacketTransmitter() = default;
  virtual void transmit(Packet* packet) = 0;
};

}  // namespace models
