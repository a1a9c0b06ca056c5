module mywire.example/bench

go 1.19

require mywire.example/mywire v0.0.0

replace mywire.example/mywire => ../../../bindings/go
