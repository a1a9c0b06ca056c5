// A resizable array of a trivially copyable type that holds up to N elements
// in itself and only more on the heap: BinaryLayout's per-column codes and a
// result's current row, so that a result of a few columns allocates nothing
// for them (a pipeline of 2,000 executes makes 2,000 such results).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

namespace mywire::proto {

template <class T, std::size_t N>
class SmallArray {
    static_assert(std::is_trivially_copyable_v<T> && N > 0);

public:
    SmallArray() = default;
    SmallArray(const SmallArray &o) { assign(o.data(), o.size_); }
    SmallArray &operator=(const SmallArray &o) {
        if (this != &o) assign(o.data(), o.size_);
        return *this;
    }
    SmallArray(SmallArray &&o) noexcept { take(o); }
    SmallArray &operator=(SmallArray &&o) noexcept {
        if (this != &o) take(o);
        return *this;
    }

    // One load, no branch: the getters index these arrays per value.
    T *data() { return data_; }
    const T *data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::size_t capacity() const { return heap_ ? capacity_ : N; }
    T &operator[](std::size_t i) { return data()[i]; }
    const T &operator[](std::size_t i) const { return data()[i]; }
    T *begin() { return data(); }
    T *end() { return data() + size_; }
    const T *begin() const { return data(); }
    const T *end() const { return data() + size_; }

    void clear() { size_ = 0; }
    // New elements are value-initialised, as std::vector's.
    void resize(std::size_t n) {
        if (n > capacity()) {
            std::unique_ptr<T[]> fresh(new T[n]());
            if (size_) std::memcpy(fresh.get(), data(), size_ * sizeof(T));
            heap_ = std::move(fresh);
            data_ = heap_.get();
            capacity_ = n;
        } else if (n > size_) {
            for (std::size_t i = size_; i < n; ++i) data()[i] = T{};
        }
        size_ = n;
    }
    void assign(const T *p, std::size_t n) {
        if (n > capacity()) {
            // p may be ours: copy before the old block goes.
            std::unique_ptr<T[]> fresh(new T[n]);
            std::memcpy(fresh.get(), p, n * sizeof(T));
            heap_ = std::move(fresh);
            data_ = heap_.get();
            capacity_ = n;
            size_ = n;
            return;
        }
        if (n) std::memmove(data(), p, n * sizeof(T));
        size_ = n;
    }

private:
    void take(SmallArray &o) noexcept {
        if (o.heap_) {
            heap_ = std::move(o.heap_);
            data_ = heap_.get();
            capacity_ = o.capacity_;
        } else {
            heap_.reset();
            data_ = local_;
            capacity_ = 0;
            if (o.size_) std::memcpy(local_, o.local_, o.size_ * sizeof(T));
        }
        size_ = o.size_;
        o.data_ = o.local_;
        o.size_ = 0;
        o.capacity_ = 0;
    }

    T local_[N]{};
    std::unique_ptr<T[]> heap_;
    T *data_ = local_;  // local_ or heap_
    std::size_t capacity_ = 0;  // of heap_
    std::size_t size_ = 0;
};

}  // namespace mywire::proto
