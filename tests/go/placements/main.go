// Command placements prints where the Go Kafka clients' own partitioners put
// keyed messages, so that rdpart's presets can be checked against them
// (tests/python/test_go_clients.py).
//
// Input, on stdin, one case a line: either JSON, {"key": "<hex>", "n": <n>},
// or "<hex> <n>" (a line holding only "<n>" is the empty key). Keys are
// never NULL: NULL keys go to random or round-robin partitions, which are
// not placements to compare.
//
// Output: for each case, one JSON object on one line, mapping the name of
// each client function to the partition index (0..n-1) it chose. The
// partitions offered are 0..n-1, so indexes are partition ids.
//
// Clients (go.mod pins them):
//
//	github.com/IBM/sarama v1.61.1                  https://github.com/IBM/sarama
//	github.com/segmentio/kafka-go v0.4.51          https://github.com/segmentio/kafka-go
//	github.com/twmb/franz-go v1.22.3 (pkg/kgo)     https://github.com/twmb/franz-go
//
// "-names" prints the function names, one a line, and exits.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
	"os"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topic = "t"

// placer gives the partition of a non-NULL key among n partitions.
type placer struct {
	name string
	fn   func(key []byte, n int) int
}

func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

// parts caches the partition lists kafka-go's balancers are given: 0..n-1.
var parts = map[int][]int{}

func partitions(n int) []int {
	p, ok := parts[n]
	if !ok {
		p = make([]int, n)
		for i := range p {
			p[i] = i
		}
		parts[n] = p
	}
	return p
}

func saramaP(name string, ctor sarama.PartitionerConstructor) placer {
	p := ctor(topic)
	return placer{"sarama." + name, func(key []byte, n int) int {
		got, err := p.Partition(&sarama.ProducerMessage{Topic: topic, Key: sarama.ByteEncoder(key)}, int32(n))
		if err != nil {
			panic(err)
		}
		return int(got)
	}}
}

func kafkaGo(name string, b kafka.Balancer) placer {
	return placer{"kafka-go." + name, func(key []byte, n int) int {
		return b.Balance(kafka.Message{Topic: topic, Key: key}, partitions(n)...)
	}}
}

func franz(name string, p kgo.Partitioner) placer {
	tp := p.ForTopic(topic)
	return placer{"franz-go." + name, func(key []byte, n int) int {
		r := &kgo.Record{Topic: topic, Key: key}
		if bp, ok := tp.(kgo.TopicBackupPartitioner); ok {
			// The producer asks these by backup; a keyed record is
			// hashed before the backup iterator is looked at.
			return bp.PartitionByBackup(r, n, nil)
		}
		return tp.Partition(r, n)
	}}
}

func placers() []placer {
	return []placer{
		// Sarama: its default (Config.Producer.Partitioner), and each
		// hashing constructor.
		saramaP("NewConfig().Producer.Partitioner", sarama.NewConfig().Producer.Partitioner),
		saramaP("NewHashPartitioner", sarama.NewHashPartitioner),
		saramaP("NewReferenceHashPartitioner", sarama.NewReferenceHashPartitioner),
		saramaP("NewConsistentCRCHashPartitioner", sarama.NewConsistentCRCHashPartitioner),
		saramaP("NewMurmur2Partitioner", sarama.NewMurmur2Partitioner),
		saramaP("NewCustomPartitioner(WithAbsFirst())", sarama.NewCustomPartitioner(sarama.WithAbsFirst())),
		saramaP("NewCustomPartitioner(WithCustomHashFunction(crc32.NewIEEE),WithHashUnsigned())",
			sarama.NewCustomPartitioner(sarama.WithCustomHashFunction(func() hash.Hash32 { return crc32.NewIEEE() }),
				sarama.WithHashUnsigned())),

		// kafka-go: each hashing Balancer, as a Writer is given it.
		kafkaGo("Hash{}", &kafka.Hash{}),
		kafkaGo("ReferenceHash{}", &kafka.ReferenceHash{}),
		kafkaGo("CRC32Balancer{}", kafka.CRC32Balancer{}),
		kafkaGo("CRC32Balancer{Consistent:true}", kafka.CRC32Balancer{Consistent: true}),
		kafkaGo("Murmur2Balancer{}", kafka.Murmur2Balancer{}),
		kafkaGo("Murmur2Balancer{Consistent:true}", kafka.Murmur2Balancer{Consistent: true}),

		// franz-go: its default (config.go: UniformBytesPartitioner(64<<10,
		// true, true, nil), whose nil hasher is KafkaHasher(murmur2)), and
		// StickyKeyPartitioner with each hasher.
		franz("default:UniformBytesPartitioner(65536,true,true,nil)", kgo.UniformBytesPartitioner(64<<10, true, true, nil)),
		franz("StickyKeyPartitioner(nil)", kgo.StickyKeyPartitioner(nil)),
		franz("StickyKeyPartitioner(KafkaHasher(fnv32a))", kgo.StickyKeyPartitioner(kgo.KafkaHasher(fnv32a))),
		franz("StickyKeyPartitioner(SaramaHasher(fnv32a))", kgo.StickyKeyPartitioner(kgo.SaramaHasher(fnv32a))),
		franz("StickyKeyPartitioner(SaramaHasher(crc32.ChecksumIEEE))", kgo.StickyKeyPartitioner(kgo.SaramaHasher(crc32.ChecksumIEEE))),
		franz("StickyKeyPartitioner(SaramaCompatHasher(fnv32a))", kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a))),
	}
}

func parse(line string) (key []byte, n int, err error) {
	if strings.HasPrefix(line, "{") {
		var c struct {
			Key string `json:"key"`
			N   int    `json:"n"`
		}
		if err = json.Unmarshal([]byte(line), &c); err != nil {
			return nil, 0, err
		}
		key, err = hex.DecodeString(c.Key)
		n = c.N
	} else {
		f := strings.Fields(line)
		switch len(f) {
		case 1:
			n, err = strconv.Atoi(f[0])
		case 2:
			if key, err = hex.DecodeString(f[0]); err == nil {
				n, err = strconv.Atoi(f[1])
			}
		default:
			err = fmt.Errorf("want \"<hex> <n>\"")
		}
	}
	if err == nil && n < 1 {
		err = fmt.Errorf("n = %d: need at least one partition", n)
	}
	if key == nil {
		key = []byte{} // keyed cases only: empty, never NULL
	}
	return key, n, err
}

func main() {
	names := flag.Bool("names", false, "print the function names and exit")
	flag.Parse()
	ps := placers()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if *names {
		for _, p := range ps {
			fmt.Fprintln(w, p.name)
		}
		return
	}
	quoted := make([]string, len(ps))
	for i, p := range ps {
		q, _ := json.Marshal(p.name)
		quoted[i] = string(q)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	for lineNo := 1; in.Scan(); lineNo++ {
		line := strings.TrimSpace(in.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, n, err := parse(line)
		if err != nil {
			w.Flush()
			fmt.Fprintf(os.Stderr, "placements: line %d: %v\n", lineNo, err)
			os.Exit(2)
		}
		w.WriteByte('{')
		for i, p := range ps {
			if i > 0 {
				w.WriteByte(',')
			}
			got := p.fn(key, n)
			if got < 0 || got >= n {
				w.Flush()
				fmt.Fprintf(os.Stderr, "placements: line %d: %s gave %d of %d partitions\n", lineNo, p.name, got, n)
				os.Exit(3)
			}
			fmt.Fprintf(w, "%s:%d", quoted[i], got)
		}
		w.WriteString("}\n")
	}
	if err := in.Err(); err != nil {
		w.Flush()
		fmt.Fprintf(os.Stderr, "placements: reading stdin: %v\n", err)
		os.Exit(2)
	}
}
