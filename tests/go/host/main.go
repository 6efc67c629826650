// A confluent-kafka-go producer with the rdpart plugin, written as Go users
// write one: a ConfigMap (a Go map: no order), Produce, the Events channel.
// It produces COUNT messages with keys "key-0".."key-{COUNT/2-1}" (every
// other message keyless) and prints, per delivered message, its partition
// and key in hex ("-" for none). NewProducer's error is printed on stderr
// with exit status 3, so the test can read rdpart's message.
//
//	host BOOTSTRAP TOPIC PLUGIN STRATEGY COUNT
package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func main() {
	bootstrap, topic, plugin, strategy := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	count, _ := strconv.Atoi(os.Args[5])
	p, err := kafka.NewProducer(&kafka.ConfigMap{
		"bootstrap.servers":      bootstrap,
		"plugin.library.paths":   plugin,
		"rdpart.strategy":        strategy,
		"rdpart.sticky.messages": 20,
		"enable.idempotence":     true,
		"linger.ms":              5,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer p.Close()
	version, _ := kafka.LibraryVersion()
	fmt.Fprintln(os.Stderr, "librdkafka", version)
	for i := 0; i < count; i++ {
		var key []byte
		if i%2 == 0 {
			key = []byte(fmt.Sprintf("key-%d", i/2))
		}
		msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key: key, Value: []byte(strconv.Itoa(i))}
		for {
			err := p.Produce(msg, nil)
			if err == nil {
				break
			}
			if e, ok := err.(kafka.Error); ok && e.Code() == kafka.ErrQueueFull {
				p.Flush(100)
				continue
			}
			fmt.Fprintln(os.Stderr, "produce:", err)
			os.Exit(1)
		}
	}
	failed := 0
	for done := 0; done < count; {
		ev := <-p.Events()
		m, ok := ev.(*kafka.Message)
		if !ok {
			continue
		}
		done++
		if m.TopicPartition.Error != nil {
			failed++
			continue
		}
		k := "-"
		if m.Key != nil {
			k = hex.EncodeToString(m.Key)
		}
		fmt.Println(m.TopicPartition.Partition, k)
	}
	if failed > 0 {
		fmt.Fprintln(os.Stderr, failed, "messages failed")
		os.Exit(1)
	}
}
