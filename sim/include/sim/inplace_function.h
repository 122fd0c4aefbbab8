#pragma once
// A move-only callable stored in a fixed-size buffer inside the object: scheduling an event
// never touches the heap. A capture that does not fit is a compile-time error, which keeps
// event closures small (capture a pointer to the entity, an index, a descriptor handle).

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

template <class Signature, std::size_t Capacity = 48>
class InplaceFunction;

template <class R, class... Args, std::size_t Capacity>
class InplaceFunction<R(Args...), Capacity> {
 public:
  InplaceFunction() = default;

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, InplaceFunction>>>
  InplaceFunction(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
    construct(std::forward<F>(f));
  }

  InplaceFunction(InplaceFunction&& o) noexcept { move_from(o); }
  InplaceFunction& operator=(InplaceFunction&& o) noexcept {
    if (this != &o) {
      reset();
      move_from(o);
    }
    return *this;
  }
  InplaceFunction(const InplaceFunction&) = delete;
  InplaceFunction& operator=(const InplaceFunction&) = delete;
  ~InplaceFunction() { reset(); }

  // Stores a callable (or takes over another InplaceFunction) in a function that is empty, so
  // there is nothing to destroy first: the event slab's fast path, which builds the closure
  // directly in its slot.
  template <class F>
  void emplace_into_empty(F&& f) {
    if constexpr (std::is_same_v<std::decay_t<F>, InplaceFunction>) {
      static_assert(!std::is_lvalue_reference_v<F>, "pass an InplaceFunction with std::move");
      move_from(f);
    } else {
      construct(std::forward<F>(f));
    }
  }

  explicit operator bool() const { return invoke_ != nullptr; }

  R operator()(Args... a) { return invoke_(buf_, std::forward<Args>(a)...); }

  // Destroys the stored callable (and whatever it captured).
  void reset() {
    if (invoke_ && manage_) manage_(nullptr, buf_);
    invoke_ = nullptr;
    manage_ = nullptr;
  }

 private:
  template <class F>
  void construct(F&& f) {
    using D = std::decay_t<F>;
    static_assert(sizeof(D) <= Capacity, "closure too large for InplaceFunction: capture less");
    static_assert(alignof(D) <= alignof(std::max_align_t), "closure over-aligned");
    static_assert(std::is_invocable_r_v<R, D&, Args...>, "closure has the wrong signature");
    ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
    invoke_ = [](void* p, Args... a) -> R { return (*static_cast<D*>(p))(std::forward<Args>(a)...); };
    if constexpr (std::is_trivially_copyable_v<D> && std::is_trivially_destructible_v<D>) {
      manage_ = nullptr;  // memcpy-movable, nothing to destroy
    } else {
      manage_ = [](void* dst, void* src) {
        D* s = static_cast<D*>(src);
        if (dst) ::new (dst) D(std::move(*s));
        s->~D();
      };
    }
  }

  void move_from(InplaceFunction& o) {
    if (!o.invoke_) return;
    if (o.manage_) {
      o.manage_(buf_, o.buf_);
    } else {
      __builtin_memcpy(buf_, o.buf_, Capacity);
    }
    invoke_ = o.invoke_;
    manage_ = o.manage_;
    o.invoke_ = nullptr;
    o.manage_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buf_[Capacity];
  R (*invoke_)(void*, Args...) = nullptr;
  void (*manage_)(void* dst, void* src) = nullptr;
};

}  // namespace sim
