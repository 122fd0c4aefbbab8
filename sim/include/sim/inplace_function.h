#pragma once
// A move-only callable stored in a fixed-size buffer inside the object: scheduling an event
// never touches the heap. A capture that does not fit is a compile-time error, which keeps
// event closures small (capture a pointer to the entity, an index, a descriptor handle).
//
// Representation: the captures, plus one pointer to a static table of the operations of the
// stored type (call, relocate, destroy), like a hand-made vtable. One pointer instead of one per
// operation is what lets the event slab keep a callback and its bookkeeping in one 64-byte cache
// line (see event_queue.h); the slab stores closures through the same table (`ops_for`).

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

template <class Signature, std::size_t Capacity = 48>
class InplaceFunction;

template <class R, class... Args, std::size_t Capacity>
class InplaceFunction<R(Args...), Capacity> {
 public:
  // The operations of one stored type. A null relocate/destroy means the type is trivially
  // copyable/destructible: moving it is a memcpy of the buffer, destroying it is nothing.
  struct Ops {
    R (*invoke)(void* storage, Args... args);
    void (*relocate)(void* dst, void* src);  // move-construct at dst, destroy src
    void (*destroy)(void* storage);
  };

  // The table for a closure type D; its address identifies the type.
  template <class D>
  static const Ops* ops_for() {
    check_storable<D>();
    return &kOpsFor<D>;
  }
  // Moves `src` (a buffer of Capacity bytes holding a D described by `ops`) into `dst`.
  static void relocate(const Ops* ops, void* dst, void* src) {
    if (ops->relocate) {
      ops->relocate(dst, src);
    } else {
      std::memcpy(dst, src, Capacity);
    }
  }
  static void destroy(const Ops* ops, void* storage) {
    if (ops->destroy) ops->destroy(storage);
  }

  InplaceFunction() = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, InplaceFunction>>>
  InplaceFunction(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
    ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
    ops_ = ops_for<D>();
  }

  InplaceFunction(InplaceFunction&& o) noexcept { take(o); }
  InplaceFunction& operator=(InplaceFunction&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  InplaceFunction(const InplaceFunction&) = delete;
  InplaceFunction& operator=(const InplaceFunction&) = delete;
  ~InplaceFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  R operator()(Args... a) { return ops_->invoke(buf_, std::forward<Args>(a)...); }

  // Destroys the stored callable (and whatever it captured).
  void reset() {
    if (ops_) destroy(ops_, buf_);
    ops_ = nullptr;
  }

  // Hands the stored callable over to raw storage of Capacity bytes (the event slab): moves it
  // into `dst`, leaves this function empty and returns its table (null if it was empty).
  const Ops* release_into(void* dst) {
    const Ops* ops = ops_;
    if (ops) relocate(ops, dst, buf_);
    ops_ = nullptr;
    return ops;
  }

 private:
  template <class D>
  static constexpr void check_storable() {
    static_assert(sizeof(D) <= Capacity, "closure too large for InplaceFunction: capture less");
    static_assert(alignof(D) <= alignof(std::max_align_t), "closure over-aligned");
    static_assert(std::is_invocable_r_v<R, D&, Args...>, "closure has the wrong signature");
  }

  template <class D>
  static constexpr Ops make_ops() {
    Ops ops{[](void* p, Args... a) -> R { return (*static_cast<D*>(p))(std::forward<Args>(a)...); },
            nullptr, nullptr};
    if constexpr (!std::is_trivially_copyable_v<D>) {
      ops.relocate = [](void* dst, void* src) {
        D* s = static_cast<D*>(src);
        ::new (dst) D(std::move(*s));
        s->~D();
      };
    }
    if constexpr (!std::is_trivially_destructible_v<D>) {
      ops.destroy = [](void* p) { static_cast<D*>(p)->~D(); };
    }
    return ops;
  }
  template <class D>
  static constexpr Ops kOpsFor = make_ops<D>();

  void take(InplaceFunction& o) { ops_ = o.release_into(buf_); }

  alignas(std::max_align_t) unsigned char buf_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace sim
